import type { BatchdClient, WebhookDelivery, WebhookEndpoint } from '@batchd/sdk';
import { confirmAction } from './confirm-dialog.js';
import { field, h, on } from './dom.js';
import { errorBanner } from './error-banner.js';
import { formatCount, formatDateTime, formatRelative } from './format.js';
import { startPolling } from './poller.js';
import { href } from './routes.js';
import { apiClient } from './session.js';

const POLL_MS = 2000;
const BADGES: Record<WebhookDelivery['status'], string> = { pending: 'badge-in_progress', delivered: 'badge-ended', failed: 'badge-result-errored' };
const COLUMNS = ['Delivery', 'Event', 'Batch', 'Status', 'Attempts', 'Last code', 'Next attempt', 'Last error'];

function deliveryRow(delivery: WebhookDelivery, now: number): HTMLTableRowElement {
  const cells: Array<string | Node> = [
    h('code', {}, delivery.id),
    delivery.event_type,
    h('a', { href: href({ page: 'detail', id: delivery.batch_id }) }, delivery.batch_id),
    h('span', { class: `badge ${BADGES[delivery.status]}`, 'data-status': delivery.status }, delivery.status),
    formatCount(delivery.attempts),
    delivery.last_status_code === null ? '—' : String(delivery.last_status_code),
    delivery.next_attempt_at === null ? '—' : formatRelative(delivery.next_attempt_at, now),
    delivery.last_error ?? '—',
  ];
  return h(
    'tr',
    { 'data-delivery-id': delivery.id },
    ...cells.map((cell, i) => h('td', { 'data-label': COLUMNS[i]!, class: i === 4 || i === 5 ? 'num' : '' }, cell)),
  );
}

/** A warning when events no longer reach the endpoint: disabled by a 410, or paused after failing again and again. */
function health(endpoint: WebhookEndpoint): HTMLElement[] {
  if (endpoint.disabled_at !== null) {
    return [h('p', { class: 'banner banner-error' }, `Disabled ${formatDateTime(endpoint.disabled_at)}: its receiver answered 410 Gone. Add the URL again to receive events.`)];
  }
  if (endpoint.paused_until === null) return [];
  const failures = `${endpoint.consecutive_failures} failed attempts in a row`;
  return [h('p', { class: 'banner banner-info' }, `Paused until ${formatDateTime(endpoint.paused_until)} after ${failures}.`)];
}

function endpointSection(endpoint: WebhookEndpoint, deliveries: WebhookDelivery[], onRemove: () => void): HTMLElement {
  const now = Date.now();
  const log =
    deliveries.length === 0
      ? h('p', { class: 'empty' }, 'No deliveries yet: one is made for each batch that ends from now on.')
      : h(
          'div',
          { class: 'table-wrap' },
          h(
            'table',
            { class: 'delivery-table' },
            h('thead', {}, h('tr', {}, ...COLUMNS.map((label, i) => h('th', { scope: 'col', class: i === 4 || i === 5 ? 'num' : '' }, label)))),
            h('tbody', {}, ...deliveries.map((delivery) => deliveryRow(delivery, now))),
          ),
        );
  const remove = on(h('button', { type: 'button', class: 'button button-danger-outline' }, 'Remove'), 'click', onRemove);
  return h(
    'article',
    { class: 'card webhook-endpoint', 'data-endpoint-id': endpoint.id },
    h('div', { class: 'actions' }, h('h2', {}, endpoint.url), remove),
    h('p', { class: 'muted' }, [endpoint.id, endpoint.description, `added ${formatDateTime(endpoint.created_at)}`].filter(Boolean).join(' · ')),
    ...health(endpoint),
    log,
  );
}

async function loadEndpoints(client: BatchdClient, signal: AbortSignal): Promise<Array<[WebhookEndpoint, WebhookDelivery[]]>> {
  const endpoints = await client.webhooks.list({ signal });
  return Promise.all(endpoints.map(async (endpoint) => [endpoint, (await client.webhooks.deliveries(endpoint.id, {}, { signal })).data] as [WebhookEndpoint, WebhookDelivery[]]));
}

/** The workspace's webhook endpoints with their delivery logs; endpoints are added and removed here. */
export function mountWebhooksPage(main: HTMLElement): () => void {
  const client = apiClient();
  const banner = h('div');
  const outcome = h('div', { 'aria-live': 'polite' });
  const list = h('div', { class: 'webhook-endpoints' });

  const poller = startPolling(
    async (signal) => {
      const loaded = await loadEndpoints(client, signal);
      const remove = (endpoint: WebhookEndpoint) => async () => {
        const confirmed = await confirmAction({
          title: 'Remove this endpoint?',
          message: `Events stop going to ${endpoint.url}, and its delivery log is removed.`,
          confirmLabel: 'Remove endpoint',
          danger: true,
        });
        if (!confirmed) return;
        try {
          await client.webhooks.delete(endpoint.id);
          outcome.replaceChildren(h('div', { class: 'banner banner-ok', role: 'status' }, `Removed ${endpoint.url}.`));
          poller.refresh();
        } catch (error) {
          outcome.replaceChildren(errorBanner(error));
        }
      };
      list.replaceChildren(
        ...(loaded.length === 0
          ? [h('p', { class: 'empty' }, 'No endpoints yet.')]
          : loaded.map(([endpoint, deliveries]) => endpointSection(endpoint, deliveries, () => void remove(endpoint)()))),
      );
      banner.replaceChildren();
    },
    () => POLL_MS,
    (error) => banner.replaceChildren(errorBanner(error)),
  );

  const url = h('input', { id: 'webhook-url', type: 'text', inputmode: 'url', required: true, placeholder: 'https://example.com/batchd-events' });
  const description = h('input', { id: 'webhook-description', type: 'text', placeholder: 'Optional' });
  const submit = h('button', { type: 'submit', class: 'button button-primary' }, 'Add endpoint');
  const form = on(
    h('form', { class: 'card form' }, field('Endpoint URL', url), field('Description', description), h('div', { class: 'form-actions' }, submit)),
    'submit',
    (event) => {
      event.preventDefault();
      submit.disabled = true;
      client.webhooks
        .create({ url: url.value.trim(), description: description.value.trim() || null })
        .then((endpoint) => {
          url.value = '';
          description.value = '';
          outcome.replaceChildren(
            h(
              'div',
              { class: 'banner banner-ok', role: 'status' },
              `Added ${endpoint.url}. Check each event's signature with this secret: `,
              h('code', { class: 'webhook-secret' }, endpoint.secret),
            ),
          );
          poller.refresh();
        })
        .catch((error: unknown) => outcome.replaceChildren(errorBanner(error)))
        .finally(() => {
          submit.disabled = false;
        });
    },
  );

  main.replaceChildren(
    h(
      'section',
      { class: 'page' },
      h('h1', {}, 'Webhooks'),
      h(
        'p',
        { class: 'lead' },
        'When a batch ends, batchd POSTs a signed ',
        h('code', {}, 'batch.ended'),
        ' event to every endpoint of this workspace, retrying for about a day until it answers 2xx. Receivers check it with ',
        h('code', {}, 'verifyWebhook'),
        ' from @batchd/sdk.',
      ),
      banner,
      form,
      outcome,
      list,
    ),
  );
  return () => poller.stop();
}
