import { h, s, setText } from './dom.js';
import { formatCount, formatDuration, formatRate } from './format.js';

/** Samples kept: ten minutes at one per second. */
const MAX_SAMPLES = 600;
const HEIGHT = 180;
const PAD = { left: 48, right: 12, top: 12, bottom: 24 };
const clock = new Intl.DateTimeFormat('en-GB', { hour: '2-digit', minute: '2-digit', second: '2-digit' });

interface Sample {
  at: number;
  done: number;
}

/** The smallest of 1, 2, 2.5, 5 × 10^n at or above `value`, so axis labels stay round. */
function niceCeil(value: number): number {
  if (value <= 1) return 1;
  const magnitude = 10 ** Math.floor(Math.log10(value));
  const step = [1, 2, 2.5, 5, 10].find((factor) => factor * magnitude >= value) ?? 10;
  return step * magnitude;
}

/**
 * Results per second over time, drawn as SVG from the request counts sampled while the page is
 * open: each point is the number of requests that got a result between two samples.
 */
export interface ThroughputChart {
  element: HTMLElement;
  addSample(done: number, at: number): void;
  setNote(note: string): void;
  /** Stops following the element's size. */
  dispose(): void;
}

export function throughputChart(): ThroughputChart {
  const samples: Sample[] = [];
  const svg = s('svg', { class: 'chart', height: HEIGHT, role: 'img', 'aria-label': 'Throughput over time' });
  const summary = h('p', { class: 'chart-summary' });
  const note = h('p', { class: 'muted' }, 'Sampling: the chart fills in while this page is open.');
  const element = h('figure', { class: 'chart-figure' }, svg, summary, note);

  /** One rate per interval between consecutive samples. */
  const rates = () =>
    samples.slice(1).map((sample, i) => {
      const previous = samples[i]!;
      return { to: sample.at, rate: (1000 * (sample.done - previous.done)) / Math.max(1, sample.at - previous.at) };
    });

  const draw = () => {
    const points = rates();
    const width = Math.max(240, svg.clientWidth || element.clientWidth);
    svg.setAttribute('viewBox', `0 0 ${width} ${HEIGHT}`);
    svg.replaceChildren();
    svg.style.display = points.length === 0 ? 'none' : '';
    summary.hidden = points.length === 0;
    if (points.length === 0) return;
    const first = samples[0]!.at;
    const last = samples[samples.length - 1]!.at;
    const span = Math.max(1, last - first);
    const peak = Math.max(...points.map((p) => p.rate));
    const top = niceCeil(peak * 1.1);
    const plotW = width - PAD.left - PAD.right;
    const plotH = HEIGHT - PAD.top - PAD.bottom;
    const x = (at: number) => (PAD.left + (plotW * (at - first)) / span).toFixed(1);
    const y = (rate: number) => (PAD.top + plotH - (plotH * rate) / top).toFixed(1);
    for (const value of [0, top / 2, top]) {
      svg.append(
        s('line', { class: 'chart-grid', x1: PAD.left, x2: width - PAD.right, y1: y(value), y2: y(value) }),
        s('text', { class: 'chart-label', x: PAD.left - 6, y: Number(y(value)) + 4, 'text-anchor': 'end' }, formatRate(value)),
      );
    }
    // Each interval is drawn flat at its rate: the counts say how many results arrived in it, not when.
    const steps = points.map((p) => `V${y(p.rate)} H${x(p.to)}`).join(' ');
    svg.append(
      s('path', { class: 'chart-area', d: `M${x(first)},${y(0)} ${steps} V${y(0)} Z` }),
      s('path', { class: 'chart-line', d: `M${x(first)},${y(points[0]!.rate)} ${steps}` }),
      s('text', { class: 'chart-label', x: PAD.left, y: HEIGHT - 6 }, clock.format(first)),
      s('text', { class: 'chart-label', x: width - PAD.right, y: HEIGHT - 6, 'text-anchor': 'end' }, clock.format(last)),
    );
    const current = points[points.length - 1]!.rate;
    const total = samples[samples.length - 1]!.done - samples[0]!.done;
    const text = `Latest ${formatRate(current)} · peak ${formatRate(peak)} · ${formatCount(total)} results in ${formatDuration(span)}`;
    setText(summary, text);
    svg.setAttribute('aria-label', `Results per second from ${clock.format(first)} to ${clock.format(last)}: ${text}`);
  };

  const resizes = new ResizeObserver(() => draw());
  resizes.observe(element);
  return {
    element,
    dispose: () => resizes.disconnect(),
    addSample(done, at) {
      samples.push({ at, done });
      if (samples.length > MAX_SAMPLES) samples.shift();
      if (samples.length > 1) note.hidden = true;
      draw();
    },
    setNote(text) {
      note.hidden = false;
      setText(note, text);
    },
  };
}
