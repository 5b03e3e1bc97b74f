import { readFileSync } from 'node:fs';

/**
 * A process's memory as the Linux kernel accounts it, from `/proc/<pid>/status`: `VmRSS` (resident
 * now) and `VmHWM` (the peak resident size since the process started).
 */

export interface ProcMemory {
  rssBytes: number;
  peakRssBytes: number;
}

function field(status: string, name: string): number {
  const match = new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status);
  if (!match) throw new Error(`/proc status has no ${name}`);
  return Number(match[1]) * 1024;
}

export function readProcMemory(pid: number): ProcMemory {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return { rssBytes: field(status, 'VmRSS'), peakRssBytes: field(status, 'VmHWM') };
}

/** Samples a process's resident size every `intervalMs` until stopped; keeps the largest. */
export class RssSampler {
  #max = 0;
  #samples = 0;
  readonly #timer: NodeJS.Timeout;

  constructor(private readonly pid: number, intervalMs = 10) {
    this.#sample();
    this.#timer = setInterval(() => this.#sample(), intervalMs);
  }

  #sample(): void {
    try {
      this.#max = Math.max(this.#max, readProcMemory(this.pid).rssBytes);
      this.#samples += 1;
    } catch {
      // The process exited; the samples so far stand.
    }
  }

  /** Stops sampling (taking one last sample) and returns the largest resident size seen. */
  stop(): { maxRssBytes: number; samples: number } {
    clearInterval(this.#timer);
    this.#sample();
    return { maxRssBytes: this.#max, samples: this.#samples };
  }
}

export const MB = 1024 * 1024;
