import type { BackendStatus } from '@batchd/sdk';
import { h } from './dom.js';
import { errorBanner } from './error-banner.js';
import { formatCount, formatPercent, formatRate } from './format.js';
import { startPolling } from './poller.js';
import { apiClient } from './session.js';

const POLL_MS = 2000;

const COLUMNS: Array<{ label: string; numeric: boolean }> = [
  { label: 'Backend', numeric: false },
  { label: 'State', numeric: false },
  { label: 'Concurrency limit', numeric: true },
  { label: 'In flight', numeric: true },
  { label: 'Throughput', numeric: true },
  { label: 'Calls', numeric: true },
  { label: 'Succeeded', numeric: true },
  { label: '429 rate', numeric: true },
  { label: '5xx rate', numeric: true },
  { label: 'Auth failures', numeric: true },
];

/** A backend's replicas, one line each: URL, calls in flight, calls and failures, and whether it is taking calls. */
function replicaList(backend: BackendStatus): Node[] {
  if (!backend.replicas) return [];
  const items = backend.replicas.map((replica) =>
    h(
      'li',
      { 'data-replica': replica.url, class: replica.up ? '' : 'replica-down' },
      `${replica.url} · ${formatCount(replica.in_flight)} in flight · ${formatCount(replica.calls)} calls · ${formatCount(replica.failures)} failed${replica.up ? '' : ' · skipped for now'}`,
    ),
  );
  return [h('ul', { class: 'replica-list muted' }, ...items)];
}

function backendRow(backend: BackendStatus, callsPerSecond: number | null): HTMLTableRowElement {
  const values: Array<string | Node> = [
    h('span', { class: `badge ${backend.paused ? 'badge-canceling' : 'badge-in_progress'}` }, backend.paused ? 'paused' : 'active'),
    formatCount(backend.concurrency_limit),
    formatCount(backend.in_flight),
    callsPerSecond === null ? '—' : formatRate(callsPerSecond),
    formatCount(backend.calls),
    formatCount(backend.succeeded),
    formatPercent(backend.rateLimited, backend.calls),
    formatPercent(backend.serverErrors, backend.calls),
    formatCount(backend.authFailures),
  ];
  return h(
    'tr',
    { 'data-backend': backend.name },
    h('th', { scope: 'row' }, h('span', { class: 'backend-name' }, backend.name), h('span', { class: 'muted backend-type' }, backend.type), ...replicaList(backend)),
    ...values.map((value, i) => h('td', { 'data-label': COLUMNS[i + 1]!.label, class: COLUMNS[i + 1]!.numeric ? 'num' : '' }, value)),
  );
}

/** Each backend's adaptive concurrency limit, calls in flight, call rate and failure rates, and its replicas' load. */
export function mountBackendsPage(main: HTMLElement): () => void {
  const client = apiClient();
  const banner = h('div');
  const tbody = h('tbody');
  let previous: { at: number; calls: Map<string, number> } | undefined;

  const poller = startPolling(
    async (signal) => {
      const backends = await client.backends.list({ signal });
      const at = Date.now();
      tbody.replaceChildren(
        ...backends.map((backend) => {
          const before = previous?.calls.get(backend.name);
          const seconds = previous ? (at - previous.at) / 1000 : 0;
          return backendRow(backend, before === undefined || seconds <= 0 ? null : (backend.calls - before) / seconds);
        }),
      );
      previous = { at, calls: new Map(backends.map((backend) => [backend.name, backend.calls])) };
      banner.replaceChildren();
    },
    () => POLL_MS,
    (error) => banner.replaceChildren(errorBanner(error)),
  );

  main.replaceChildren(
    h(
      'section',
      { class: 'page' },
      h('h1', {}, 'Backends'),
      h('p', { class: 'lead' }, 'Where batched requests run. The concurrency limit adapts: it grows while a backend answers well and shrinks on 429, 529 and timeouts.'),
      banner,
      h(
        'div',
        { class: 'table-wrap' },
        h(
          'table',
          { class: 'backend-table' },
          h('thead', {}, h('tr', {}, ...COLUMNS.map((column) => h('th', { scope: 'col', class: column.numeric ? 'num' : '' }, column.label)))),
          tbody,
        ),
      ),
    ),
  );
  return () => poller.stop();
}
