import type { BatchdClient, OpenAIBatch } from '@batchd/sdk';
import { h, on, setText } from './dom.js';
import { errorBanner } from './error-banner.js';
import { formatCount, formatDateTime, isoOf } from './format.js';
import { dialectBadge, openAIStatusBadge } from './openai-status-badge.js';
import { usageEntries } from './openai-usage.js';
import { startPolling } from './poller.js';
import { apiClient } from './session.js';
import { usagePanel } from './usage-panel.js';

const RUNNING_POLL_MS = 1000;
const ENDED_POLL_MS = 5000;
/** Lines of a result file shown at most. */
const SHOWN_LINES = 200;
const FINAL = new Set<OpenAIBatch['status']>(['completed', 'failed', 'expired', 'cancelled']);

const TIMES: Array<[keyof OpenAIBatch, string]> = [
  ['created_at', 'Created'],
  ['cancelling_at', 'Cancelling'],
  ['completed_at', 'Completed'],
  ['cancelled_at', 'Cancelled'],
  ['expired_at', 'Expired'],
  ['failed_at', 'Failed'],
  ['expires_at', 'Expires'],
];

function card(title: string, ...children: Node[]): HTMLElement {
  return h('section', { class: 'card' }, h('h2', {}, title), ...children);
}

function definitions(entries: Array<[string, Node | string]>): HTMLElement {
  return h('dl', { class: 'facts' }, ...entries.flatMap(([term, value]) => [h('dt', {}, term), h('dd', {}, value)]));
}

/** A button that loads a result file and shows its first lines below it. */
function fileViewer(client: BatchdClient, label: string, fileId: string): HTMLElement {
  const view = h('pre', { class: 'file-view', hidden: true, 'data-file-id': fileId });
  const status = h('div');
  const button = on(h('button', { type: 'button', class: 'button' }, label), 'click', async () => {
    button.disabled = true;
    try {
      const lines = (await client.openai.files.content(fileId)).split('\n').filter((line) => line !== '');
      const more = lines.length > SHOWN_LINES ? `\n… ${formatCount(lines.length - SHOWN_LINES)} more lines` : '';
      setText(view, lines.slice(0, SHOWN_LINES).join('\n') + more);
      view.hidden = false;
      status.replaceChildren();
    } catch (error) {
      status.replaceChildren(errorBanner(error));
    } finally {
      button.disabled = false;
    }
  });
  return h('div', { class: 'file-viewer' }, h('p', {}, button, ' ', h('span', { class: 'mono muted' }, fileId)), status, view);
}

function render(client: BatchdClient, batch: OpenAIBatch, usage: HTMLElement): HTMLElement {
  const { total, completed, failed } = batch.request_counts;
  const times = TIMES.filter(([key]) => typeof batch[key] === 'number').map(([key, label]): [string, Node | string] => {
    const iso = isoOf(batch[key] as number);
    return [label, h('time', { datetime: iso }, formatDateTime(iso))];
  });
  const files = [
    batch.output_file_id === null ? null : fileViewer(client, 'Show output file', batch.output_file_id),
    batch.error_file_id === null ? null : fileViewer(client, 'Show error file', batch.error_file_id),
  ].filter((viewer) => viewer !== null);
  const errors = batch.errors?.data ?? [];
  return h(
    'div',
    { class: 'detail-body' },
    h('div', { class: 'title-row' }, h('h1', { class: 'mono batch-id' }, batch.id), dialectBadge(), openAIStatusBadge(batch.status).element),
    h(
      'div',
      { class: 'grid' },
      card('Requests', definitions([['Total', formatCount(total)], ['Completed', formatCount(completed)], ['Failed', formatCount(failed)]])),
      card('Timeline', definitions(times)),
      card('Batch', definitions([['Endpoint', batch.endpoint], ['Model', batch.model ?? '—'], ['Input file', batch.input_file_id], ...Object.entries(batch.metadata ?? {})])),
      card('Usage', definitions(usageEntries(batch.usage))),
      card('Cache and cost', usage),
      errors.length === 0
        ? null
        : h('section', { class: 'card card-wide' }, h('h2', {}, 'Input file errors'), h('ul', { class: 'validation-errors' }, ...errors.map((e) => h('li', { 'data-line': e.line ?? '' }, `${e.message} (${e.code})`)))),
      files.length === 0 ? null : h('section', { class: 'card card-wide' }, h('h2', {}, 'Result files'), ...files),
    ),
  );
}

/** One OpenAI batch: status, counts, times, endpoint, model, usage and cost, input errors, and its output and error files. */
export function mountOpenAIBatchPage(main: HTMLElement, id: string): () => void {
  const client = apiClient();
  const banner = h('div');
  const body = h('div', {}, h('p', { class: 'muted' }, 'Loading…'));
  const usage = usagePanel();
  let shown = '';
  let final = false;
  const poller = startPolling(
    async (signal) => {
      const [batch, report] = await Promise.all([client.openai.batches.retrieve(id, { signal }), client.openai.batches.usage(id, { signal })]);
      final = FINAL.has(batch.status);
      banner.replaceChildren();
      usage.update(report);
      // Rebuilt only when something changed, so an opened file stays open.
      const text = JSON.stringify(batch);
      if (text === shown) return;
      shown = text;
      body.replaceChildren(render(client, batch, usage.element));
    },
    () => (final ? ENDED_POLL_MS : RUNNING_POLL_MS),
    (error) => banner.replaceChildren(errorBanner(error)),
  );
  main.replaceChildren(h('section', { class: 'page' }, h('a', { href: '#/', class: 'back' }, '← All batches'), banner, body));
  return () => poller.stop();
}
