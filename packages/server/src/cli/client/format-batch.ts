import type { BatchCost, MessageBatch, MessageBatchProcessingStatus, MessageBatchRequestCounts, MessageBatchUsage } from '@batchd/sdk';
import { formatTable } from '../format-table.js';
import type { Palette } from '../palette.js';
import { totalRequests } from './request-counts.js';

/** `3 succeeded, 1 errored, 0 canceled, 0 expired, 2 processing`, non-zero counts coloured by state. */
export function formatCounts(counts: MessageBatchRequestCounts, colors: Palette): string {
  const part = (count: number, state: string, color: (text: string) => string) =>
    count > 0 ? color(`${count} ${state}`) : `${count} ${state}`;
  const parts = [
    part(counts.succeeded, 'succeeded', colors.green),
    part(counts.errored, 'errored', colors.red),
    part(counts.canceled, 'canceled', colors.yellow),
    part(counts.expired, 'expired', colors.yellow),
  ];
  if (counts.processing > 0) parts.push(part(counts.processing, 'processing', colors.cyan));
  return parts.join(', ');
}

export function formatStatus(status: MessageBatchProcessingStatus, colors: Palette): string {
  if (status === 'ended') return colors.green(status);
  return status === 'canceling' ? colors.yellow(status) : colors.cyan(status);
}

/** US dollars: cents above a dollar, three significant digits below. */
function formatUsd(usd: number): string {
  return `$${usd >= 1 || usd === 0 ? usd.toFixed(2) : usd.toPrecision(3)}`;
}

/** `$0.0123 (direct $0.0246, saving $0.0123)`, then how many requests had no price. */
export function formatCost(cost: BatchCost): string {
  const priced = cost.priced_requests > 0 ? `${formatUsd(cost.usd)} (direct ${formatUsd(cost.direct_usd)}, saving ${formatUsd(cost.saving_usd)})` : 'no prices';
  if (cost.unpriced_requests === 0) return priced;
  const requests = cost.unpriced_requests === 1 ? '1 request' : `${cost.unpriced_requests} requests`;
  return `${priced}; ${requests} without a price${cost.priced_requests > 0 ? ', so the estimate is partial' : ''}`;
}

/** The usage report's lines: tokens, cache hit rate, estimated cost. */
function usageFields(report: MessageBatchUsage): Array<[string, string | null]> {
  const { usage, cache_hit_rate } = report;
  return [
    ['tokens', `${usage.input_tokens} input, ${usage.output_tokens} output, ${usage.cache_creation_input_tokens} cache write, ${usage.cache_read_input_tokens} cache read`],
    ['cache_hits', cache_hit_rate === null ? null : `${(cache_hit_rate * 100).toFixed(1)}% of input read from cache`],
    ['cost', formatCost(report.cost)],
  ];
}

/** A batch as aligned `field  value` lines, with its usage report when given; timestamps that are not set are left out. */
export function formatBatch(batch: MessageBatch, colors: Palette, report?: MessageBatchUsage): string {
  const fields: Array<[string, string | null]> = [
    ['id', batch.id],
    ['status', formatStatus(batch.processing_status, colors)],
    ['requests', `${totalRequests(batch.request_counts)}: ${formatCounts(batch.request_counts, colors)}`],
    ['created_at', batch.created_at],
    ['cancel_initiated_at', batch.cancel_initiated_at],
    ['ended_at', batch.ended_at],
    ['expires_at', batch.expires_at],
    ['archived_at', batch.archived_at],
    ['results_url', batch.results_url],
    ...(report ? usageFields(report) : []),
  ];
  const shown = fields.filter((field): field is [string, string] => field[1] !== null);
  const width = Math.max(...shown.map(([name]) => name.length));
  return shown.map(([name, value]) => `${colors.dim(name.padEnd(width))}  ${value}\n`).join('');
}

/** Batches as a table, one row each. */
export function formatBatchTable(batches: MessageBatch[], colors: Palette): string {
  const count = { align: 'right' } as const;
  return formatTable(
    [
      { title: 'ID' },
      { title: 'STATUS' },
      { title: 'REQUESTS', ...count },
      { title: 'SUCCEEDED', ...count },
      { title: 'ERRORED', ...count },
      { title: 'CANCELED', ...count },
      { title: 'EXPIRED', ...count },
      { title: 'PROCESSING', ...count },
      { title: 'CREATED' },
    ],
    batches.map((batch) => {
      const counts = batch.request_counts;
      return [
        batch.id,
        formatStatus(batch.processing_status, colors),
        String(totalRequests(counts)),
        String(counts.succeeded),
        String(counts.errored),
        String(counts.canceled),
        String(counts.expired),
        String(counts.processing),
        batch.created_at,
      ];
    }),
    colors.bold,
  );
}
