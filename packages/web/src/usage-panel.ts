import type { BatchUsage } from '@batchd/sdk';
import { h, setText } from './dom.js';
import { formatCount } from './format.js';

const FIELDS: Array<{ key: keyof BatchUsage; label: string }> = [
  { key: 'input_tokens', label: 'Input tokens' },
  { key: 'output_tokens', label: 'Output tokens' },
  { key: 'cache_creation_input_tokens', label: 'Cache writes' },
  { key: 'cache_read_input_tokens', label: 'Cache reads' },
];

/** Token totals of a batch's succeeded results; `update` rewrites the numbers. */
export function usagePanel(): { element: HTMLElement; update(usage: BatchUsage): void } {
  const values = FIELDS.map((field) => ({ field, value: h('dd', { 'data-usage': field.key }, '…') }));
  const element = h('dl', { class: 'stats' }, ...values.map(({ field, value }) => h('div', { class: 'stat' }, h('dt', {}, field.label), value)));
  return {
    element,
    update(usage) {
      for (const { field, value } of values) setText(value, formatCount(usage[field.key] ?? 0));
    },
  };
}
