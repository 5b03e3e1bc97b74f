import type { MessageBatch } from '@batchd/sdk';
import { h, setText } from './dom.js';
import { averageThroughput, formatCount, formatDateTime, formatRate, formatRelative, timeLeft, totalRequests } from './format.js';
import { progressBar } from './progress-bar.js';
import { href } from './routes.js';
import { statusBadge } from './status-badge.js';

export interface BatchRow {
  element: HTMLTableRowElement;
  update(batch: MessageBatch, now: number): void;
}

function cell(label: string, className: string, ...children: Node[]): HTMLTableCellElement {
  return h('td', { 'data-label': label, class: className }, ...children);
}

/** One row of the batch list; `update` rewrites it in place so focus and selection survive polling. */
export function batchRow(batch: MessageBatch, now: number): BatchRow {
  const badge = statusBadge(batch.processing_status);
  const bar = progressBar(batch.request_counts);
  const done = h('span', { class: 'progress-text' });
  const requests = h('span');
  const created = h('time', { datetime: batch.created_at, title: formatDateTime(batch.created_at) });
  const left = h('span');
  const rate = h('span');
  const element = h(
    'tr',
    { 'data-batch-id': batch.id },
    h('th', { scope: 'row', class: 'col-id' }, h('a', { href: href({ page: 'detail', id: batch.id }), class: 'mono' }, batch.id)),
    cell('Status', 'col-status', badge.element),
    cell('Progress', 'col-progress', bar.element, done),
    cell('Requests', 'num', requests),
    cell('Created', 'col-created', created),
    cell('Expires in', 'col-left', left),
    cell('Throughput', 'num', rate),
  );
  const update = (next: MessageBatch, at: number) => {
    const counts = next.request_counts;
    const total = totalRequests(counts);
    badge.update(next.processing_status);
    bar.update(counts);
    setText(done, `${formatCount(total - counts.processing)} of ${formatCount(total)} done`);
    setText(requests, formatCount(total));
    setText(created, formatRelative(next.created_at, at));
    setText(left, timeLeft(next, at));
    const throughput = averageThroughput(next, at);
    setText(rate, throughput === null ? '—' : formatRate(throughput));
  };
  update(batch, now);
  return { element, update };
}
