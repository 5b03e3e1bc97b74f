import type { BatchdClient, OpenAIBatch } from '@batchd/sdk';
import { h } from './dom.js';
import { errorBanner } from './error-banner.js';
import { formatCount, formatDateTime, formatRelative, isoOf } from './format.js';
import { dialectBadge, openAIStatusBadge } from './openai-status-badge.js';
import { usageSummary } from './openai-usage.js';
import { startPolling } from './poller.js';
import { href } from './routes.js';

const POLL_MS = 2000;
const SHOWN = 20;
const COLUMNS = ['Batch', 'API', 'Endpoint', 'Status', 'Requests', 'Completed', 'Failed', 'Tokens', 'Created'];
const NUMERIC = new Set(['Requests', 'Completed', 'Failed', 'Tokens']);

function row(batch: OpenAIBatch, now: number): HTMLTableRowElement {
  const cell = (label: string, className: string, ...children: Array<Node | string>) => h('td', { 'data-label': label, class: className }, ...children);
  const created = isoOf(batch.created_at);
  const { total, completed, failed } = batch.request_counts;
  return h(
    'tr',
    { 'data-batch-id': batch.id },
    h('th', { scope: 'row', class: 'col-id' }, h('a', { href: href({ page: 'openai', id: batch.id }), class: 'mono' }, batch.id)),
    cell('API', 'col-dialect', dialectBadge()),
    cell('Endpoint', 'col-endpoint mono', batch.endpoint),
    cell('Status', 'col-status', openAIStatusBadge(batch.status).element),
    cell('Requests', 'num', formatCount(total)),
    cell('Completed', 'num', formatCount(completed)),
    cell('Failed', 'num', formatCount(failed)),
    h('td', { 'data-label': 'Tokens', class: 'num col-tokens', title: usageSummary(batch.usage) }, formatCount(batch.usage.total_tokens)),
    cell('Created', 'col-created', h('time', { datetime: created, title: formatDateTime(created) }, formatRelative(created, now))),
  );
}

/**
 * The newest batches made through the OpenAI Batch API, shown beside the message batches on the
 * list page and refreshed by polling; hidden while there are none.
 */
export function openAIBatchList(client: BatchdClient): { element: HTMLElement; stop(): void } {
  const banner = h('div');
  const tbody = h('tbody');
  const table = h(
    'table',
    { class: 'batch-table', id: 'openai-batches' },
    h('caption', { class: 'visually-hidden' }, 'OpenAI batches, newest first'),
    h('thead', {}, h('tr', {}, ...COLUMNS.map((name) => h('th', { scope: 'col', class: NUMERIC.has(name) ? 'num' : '' }, name)))),
    tbody,
  );
  const element = h('section', { class: 'openai-batches', hidden: true }, h('h2', {}, 'OpenAI batches'), banner, h('div', { class: 'table-wrap' }, table));
  const poller = startPolling(
    async (signal) => {
      const { data: batches } = await client.openai.batches.list({ limit: SHOWN }, { signal });
      const now = Date.now();
      tbody.replaceChildren(...batches.map((batch) => row(batch, now)));
      element.hidden = batches.length === 0;
      banner.replaceChildren();
    },
    () => POLL_MS,
    (error) => {
      element.hidden = false;
      banner.replaceChildren(errorBanner(error));
    },
  );
  return { element, stop: () => poller.stop() };
}
