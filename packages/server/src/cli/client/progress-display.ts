import type { MessageBatchRequestCounts } from '@batchd/sdk';
import cliProgress from 'cli-progress';
import { formatCounts } from './format-batch.js';
import { palette, type Palette } from '../palette.js';
import { totalRequests } from './request-counts.js';

/**
 * Shows how far batches have got: a live progress bar when `stream` is a terminal, otherwise one
 * plain line each time the counts change. Both show the counts by state, the rate since the
 * display started and the estimated time left.
 */
export class ProgressDisplay {
  readonly #stream: NodeJS.WriteStream;
  readonly #colors: Palette;
  readonly #now: () => number;
  readonly #bar: cliProgress.SingleBar | null;
  #start: { at: number; done: number } | null = null;
  #lastLine = '';

  constructor(stream: NodeJS.WriteStream = process.stderr, now: () => number = Date.now) {
    this.#stream = stream;
    this.#colors = palette(stream);
    this.#now = now;
    this.#bar = stream.isTTY
      ? new cliProgress.SingleBar({
          stream,
          format: `{bar} {percentage}% {value}/{total} | {states} | {speed} | ETA {remaining}`,
          barsize: 24,
          hideCursor: true,
          fps: 10,
          barCompleteChar: '\u2588',
          barIncompleteChar: '\u2591',
        })
      : null;
  }

  update(counts: MessageBatchRequestCounts): void {
    const total = totalRequests(counts);
    const done = total - counts.processing;
    const now = this.#now();
    this.#start ??= { at: now, done };
    const seconds = (now - this.#start.at) / 1000;
    const rate = seconds > 0 ? (done - this.#start.done) / seconds : 0;
    const payload = {
      states: formatCounts(counts, this.#colors),
      speed: rate > 0 ? `${formatRate(rate)}/s` : '-/s',
      remaining: done === total ? '0s' : rate > 0 ? formatDuration((total - done) / rate) : '-',
    };
    if (this.#bar) {
      if (!this.#bar.isActive) {
        this.#bar.start(total, done, payload);
      } else {
        this.#bar.setTotal(total);
        this.#bar.update(done, payload);
      }
      return;
    }
    const percent = total === 0 ? 100 : Math.floor((done / total) * 100);
    const line = `${done}/${total} (${percent}%) | ${payload.states}`;
    if (line === this.#lastLine) return;
    this.#lastLine = line;
    this.#stream.write(`${line} | ${payload.speed} | ETA ${payload.remaining}\n`);
  }

  /** Draws the last frame and leaves the terminal as it was. */
  stop(): void {
    this.#bar?.stop();
  }
}

function formatRate(perSecond: number): string {
  return perSecond >= 100 ? String(Math.round(perSecond)) : perSecond.toFixed(1);
}

/** `42s`, `3m05s`, `2h07m`. */
function formatDuration(seconds: number): string {
  const s = Math.ceil(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}
