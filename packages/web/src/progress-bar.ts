import type { MessageBatchRequestCounts } from '@batchd/sdk';
import { h, setText } from './dom.js';
import { formatCount, totalRequests } from './format.js';

/** The five counts in the order the bar draws them, left to right. */
const COUNT_KINDS = ['succeeded', 'errored', 'canceled', 'expired', 'processing'] as const;

function describeCounts(counts: MessageBatchRequestCounts): string {
  return COUNT_KINDS.filter((kind) => counts[kind] > 0)
    .map((kind) => `${formatCount(counts[kind])} ${kind}`)
    .join(', ') || 'no requests';
}

/** A horizontal bar split by result kind; `update` redraws it in place. */
export function progressBar(counts: MessageBatchRequestCounts): { element: HTMLElement; update(counts: MessageBatchRequestCounts): void } {
  const segments = new Map(COUNT_KINDS.map((kind) => [kind, h('span', { class: `segment segment-${kind}` })]));
  const element = h('div', { class: 'progress', role: 'img' }, ...segments.values());
  const update = (next: MessageBatchRequestCounts) => {
    const total = totalRequests(next);
    for (const [kind, segment] of segments) {
      const share = total === 0 ? 0 : (100 * next[kind]) / total;
      segment.style.width = `${share}%`;
      segment.hidden = share === 0;
    }
    const description = describeCounts(next);
    element.setAttribute('aria-label', `Progress: ${description}`);
    element.title = description;
  };
  update(counts);
  return { element, update };
}

/** A legend of the five counts, each with its colour key; `update` rewrites the numbers. */
export function countsLegend(counts: MessageBatchRequestCounts): { element: HTMLElement; update(counts: MessageBatchRequestCounts): void } {
  const values = COUNT_KINDS.map((kind) => ({ kind, value: h('dd', { 'data-count': kind }) }));
  const element = h(
    'dl',
    { class: 'legend' },
    ...values.map(({ kind, value }) =>
      h('div', { class: 'legend-item' }, h('dt', {}, h('span', { class: `swatch segment-${kind}`, 'aria-hidden': 'true' }), kind), value),
    ),
  );
  const update = (next: MessageBatchRequestCounts) => {
    for (const { kind, value } of values) setText(value, formatCount(next[kind]));
  };
  update(counts);
  return { element, update };
}
