import type { BatchUsage, MessageBatchUsage } from '@batchd/sdk';
import { h, setText } from './dom.js';
import { formatCount, formatUsd } from './format.js';

type Report = Pick<MessageBatchUsage, 'usage' | 'cache_hit_rate' | 'cost'>;

const TOKEN_FIELDS: Array<{ key: keyof BatchUsage; label: string }> = [
  { key: 'input_tokens', label: 'Input tokens' },
  { key: 'output_tokens', label: 'Output tokens' },
  { key: 'cache_creation_input_tokens', label: 'Cache writes' },
  { key: 'cache_read_input_tokens', label: 'Cache reads' },
];

const percent = new Intl.NumberFormat('en-US', { style: 'percent', maximumFractionDigits: 1 });

/** What a report's figures show: the token totals, the cache hit rate the server computed, and the estimated cost. */
const FIELDS: Array<{ key: string; label: string; show(report: Report): string }> = [
  ...TOKEN_FIELDS.map(({ key, label }) => ({ key, label, show: (report: Report) => formatCount(report.usage[key] ?? 0) })),
  { key: 'cache_hit_rate', label: 'Cache hit rate', show: (report) => (report.cache_hit_rate === null ? '—' : percent.format(report.cache_hit_rate)) },
  { key: 'cost', label: 'Estimated cost', show: (report) => (report.cost.priced_requests === 0 ? '—' : formatUsd(report.cost.usd)) },
  { key: 'direct_cost', label: 'At direct prices', show: (report) => (report.cost.priced_requests === 0 ? '—' : formatUsd(report.cost.direct_usd)) },
  { key: 'saving', label: 'Saving', show: (report) => (report.cost.priced_requests === 0 ? '—' : formatUsd(report.cost.saving_usd)) },
];

/** Why the cost is partial, or empty when every answered request had a price. */
function unpricedNote(report: Report): string {
  const count = report.cost.unpriced_requests;
  if (count === 0) return '';
  const requests = count === 1 ? '1 request' : `${formatCount(count)} requests`;
  return `${requests} without a price in the server's config: ${report.cost.priced_requests === 0 ? 'no cost is known' : 'the estimate is partial'}.`;
}

/** A batch's usage report: token totals, cache hit rate and estimated cost; `update` rewrites the figures. */
export function usagePanel(): { element: HTMLElement; update(report: Report): void } {
  const values = FIELDS.map((field) => ({ field, value: h('dd', { 'data-usage': field.key }, '…') }));
  const note = h('p', { class: 'muted', 'data-usage': 'unpriced' });
  const stats = h('dl', { class: 'stats' }, ...values.map(({ field, value }) => h('div', { class: 'stat' }, h('dt', {}, field.label), value)));
  return {
    element: h('div', {}, stats, note),
    update(report) {
      for (const { field, value } of values) setText(value, field.show(report));
      setText(note, unpricedNote(report));
    },
  };
}
