import type { MessageBatch } from '@batchd/sdk';
import { batchRow, type BatchRow } from './batch-row.js';
import { field, h, on, setText } from './dom.js';
import { errorBanner } from './error-banner.js';
import { takeFlash } from './flash.js';
import { loadListView } from './list-view.js';
import { openAIBatchList } from './openai-batch-list.js';
import { startPolling } from './poller.js';
import { href, type StatusFilter } from './routes.js';
import { apiClient } from './session.js';

const POLL_MS = 2000;

const FILTERS: Array<{ value: StatusFilter; label: string }> = [
  { value: null, label: 'All statuses' },
  { value: 'in_progress', label: 'In progress' },
  { value: 'canceling', label: 'Canceling' },
  { value: 'ended', label: 'Ended' },
];

const COLUMNS = ['Batch', 'Status', 'Progress', 'Requests', 'Created', 'Expires in', 'Throughput'];

/** The batch list: newest first, filtered by status, paged with the API's cursors, refreshed by polling. */
export function mountBatchListPage(main: HTMLElement, initialStatus: StatusFilter): () => void {
  const client = apiClient();
  /** `after_id` of the page shown (undefined: the newest page) and of the pages before it. */
  let after: string | undefined;
  const newerStack: Array<string | undefined> = [];
  let nextAfter: string | null = null;
  const rows = new Map<string, BatchRow>();
  let status = initialStatus;

  const select = h('select', { id: 'status-filter' }, ...FILTERS.map((f) => h('option', { value: f.value ?? '', selected: f.value === status }, f.label)));
  // The filter is kept in the address (without a page change, so focus stays on the control).
  on(select, 'change', () => {
    status = FILTERS.find((f) => (f.value ?? '') === select.value)?.value ?? null;
    history.replaceState(null, '', href({ page: 'list', status }));
    after = undefined;
    newerStack.length = 0;
    poller.refresh();
  });
  const updated = h('span', { class: 'muted' });
  const flash = takeFlash();
  const banner = h('div');
  const tbody = h('tbody');
  const table = h(
    'table',
    { class: 'batch-table' },
    h('caption', { class: 'visually-hidden' }, 'Batches, newest first'),
    h('thead', {}, h('tr', {}, ...COLUMNS.map((name) => h('th', { scope: 'col', class: name === 'Requests' || name === 'Throughput' ? 'num' : '' }, name)))),
    tbody,
  );
  const empty = h('p', { class: 'empty' }, 'Loading batches…');
  const newer = h('button', { type: 'button', class: 'button', disabled: true }, '← Newer');
  const older = h('button', { type: 'button', class: 'button', disabled: true }, 'Older →');
  const pageLabel = h('span', { class: 'muted' });
  const openAI = openAIBatchList(client);

  const render = (batches: MessageBatch[]) => {
    const now = Date.now();
    const ordered = batches.map((batch) => {
      const row = rows.get(batch.id) ?? batchRow(batch, now);
      rows.set(batch.id, row);
      row.update(batch, now);
      return row.element;
    });
    const shown = new Set(batches.map((batch) => batch.id));
    for (const id of rows.keys()) if (!shown.has(id)) rows.delete(id);
    const current = [...tbody.children];
    if (current.length !== ordered.length || current.some((element, i) => element !== ordered[i])) tbody.replaceChildren(...ordered);
    table.hidden = batches.length === 0;
    empty.hidden = batches.length > 0;
    empty.replaceChildren(
      ...(status === null && after === undefined
        ? ['No batches yet. ', h('a', { href: '#/new' }, 'Create one from a JSONL file'), '.']
        : ['No batches here.']),
    );
    newer.disabled = newerStack.length === 0;
    older.disabled = nextAfter === null;
    setText(pageLabel, `Page ${newerStack.length + 1}`);
    setText(updated, `Updated ${new Date(now).toLocaleTimeString()}`);
  };

  const poller = startPolling(
    async (signal) => {
      const view = await loadListView(client, { after, status }, signal);
      nextAfter = view.nextAfter;
      banner.replaceChildren();
      render(view.batches);
    },
    () => POLL_MS,
    (error) => banner.replaceChildren(errorBanner(error)),
  );
  on(older, 'click', () => {
    if (nextAfter === null) return;
    newerStack.push(after);
    after = nextAfter;
    poller.refresh();
  });
  on(newer, 'click', () => {
    if (newerStack.length === 0) return;
    after = newerStack.pop();
    poller.refresh();
  });

  main.replaceChildren(
    h(
      'section',
      { class: 'page' },
      h('div', { class: 'page-header' }, h('h1', {}, 'Batches'), h('a', { href: '#/new', class: 'button button-primary' }, 'New batch')),
      h('div', { class: 'toolbar' }, field('Status', select), updated),
      flash === null ? null : h('div', { class: 'banner banner-ok', role: 'status' }, flash),
      banner,
      h('div', { class: 'table-wrap' }, table),
      empty,
      h('nav', { class: 'pager', 'aria-label': 'Pages' }, newer, pageLabel, older),
      openAI.element,
    ),
  );
  table.hidden = true;
  return () => {
    poller.stop();
    openAI.stop();
  };
}
