import type { WebhookDelivery, WebhookEndpoint } from '@batchd/sdk';
import type { Command } from 'commander';
import { addClientFlags, clientContext, integerFrom } from './client-flags.js';
import { formatTable } from '../format-table.js';
import type { Palette } from '../palette.js';

/** `active`, `paused until …` (it kept failing) or `disabled` (its receiver answered 410 Gone). */
function formatState(endpoint: WebhookEndpoint, colors: Palette): string {
  if (endpoint.disabled_at !== null) return colors.red('disabled');
  return endpoint.paused_until === null ? colors.green('active') : colors.yellow(`paused until ${endpoint.paused_until}`);
}

function formatEndpoints(endpoints: WebhookEndpoint[], colors: Palette): string {
  if (endpoints.length === 0) return 'no webhook endpoints\n';
  return formatTable(
    [{ title: 'ID' }, { title: 'URL' }, { title: 'DESCRIPTION' }, { title: 'CREATED' }, { title: 'STATE' }],
    endpoints.map((e) => [e.id, e.url, e.description ?? '-', e.created_at, formatState(e, colors)]),
    colors.bold,
  );
}

function formatStatus(delivery: WebhookDelivery, colors: Palette): string {
  if (delivery.status === 'delivered') return colors.green(delivery.status);
  return delivery.status === 'failed' ? colors.red(delivery.status) : colors.cyan(delivery.status);
}

function formatDeliveries(deliveries: WebhookDelivery[], colors: Palette): string {
  if (deliveries.length === 0) return 'no deliveries\n';
  return formatTable(
    [
      { title: 'DELIVERY' },
      { title: 'ENDPOINT' },
      { title: 'EVENT' },
      { title: 'BATCH' },
      { title: 'STATUS' },
      { title: 'ATTEMPTS', align: 'right' },
      { title: 'LAST CODE', align: 'right' },
      { title: 'NEXT ATTEMPT' },
      { title: 'LAST ERROR' },
    ],
    deliveries.map((d) => [
      d.id,
      d.endpoint_id,
      d.event_type,
      d.batch_id,
      formatStatus(d, colors),
      String(d.attempts),
      d.last_status_code === null ? '-' : String(d.last_status_code),
      d.next_attempt_at ?? '-',
      d.last_error ?? '-',
    ]),
    colors.bold,
  );
}

/** `batchd webhooks …`: a workspace's webhook endpoints and their delivery log, over the HTTP API. */
export function registerWebhooksCommand(program: Command): void {
  const webhooks = addClientFlags(
    program
      .command('webhooks')
      .description('register endpoints that receive signed batch.ended events, and read their delivery log')
      .configureHelp({ showGlobalOptions: true }),
  );

  webhooks
    .command('add')
    .description('register an endpoint and print its signing secret')
    .argument('<url>', 'the http or https URL events are POSTed to')
    .option('--description <text>', 'a note for people reading the list')
    .action(async (url: string, flags: { description?: string }, command: Command) => {
      const { client, out } = clientContext(command);
      const endpoint = await client.webhooks.create({ url, description: flags.description });
      out.print(endpoint, (colors) => `added ${colors.bold(endpoint.id)} for ${endpoint.url}\nsecret ${endpoint.secret}\n`);
    });

  webhooks
    .command('list')
    .description('list the endpoints (--json includes their secrets)')
    .action(async (_flags: object, command: Command) => {
      const { client, out } = clientContext(command);
      const data = await client.webhooks.list();
      out.print({ data }, (colors) => formatEndpoints(data, colors));
    });

  webhooks
    .command('remove')
    .description('remove an endpoint and its delivery log')
    .argument('<id>', 'endpoint id (whep_…)')
    .action(async (id: string, _flags: object, command: Command) => {
      const { client, out } = clientContext(command);
      const deleted = await client.webhooks.delete(id);
      out.print(deleted, (colors) => `removed ${colors.bold(deleted.id)}\n`);
    });

  webhooks
    .command('retry')
    .description('send a delivered or failed delivery again')
    .argument('<id>', 'endpoint id (whep_…)')
    .argument('<delivery>', 'delivery id (evt_…)')
    .action(async (id: string, deliveryId: string, _flags: object, command: Command) => {
      const { client, out } = clientContext(command);
      const delivery = await client.webhooks.retryDelivery(id, deliveryId);
      out.print(delivery, (colors) => `${colors.bold(delivery.id)} is ${formatStatus(delivery, colors)}\n`);
    });

  webhooks
    .command('deliveries')
    .description("show the newest deliveries of an endpoint, or of every endpoint, with each one's attempts")
    .argument('[id]', 'endpoint id (whep_…); every endpoint when left out')
    .option('--limit <n>', 'deliveries per endpoint, 1 to 100 (default 20)', integerFrom(1, 100))
    .action(async (id: string | undefined, flags: { limit?: number }, command: Command) => {
      const { client, out } = clientContext(command);
      const ids = id !== undefined ? [id] : (await client.webhooks.list()).map((endpoint) => endpoint.id);
      const pages = await Promise.all(ids.map((endpoint) => client.webhooks.deliveries(endpoint, { limit: flags.limit })));
      const data = pages.flatMap((page) => page.data).sort((a, b) => b.created_at.localeCompare(a.created_at));
      out.print({ data }, (colors) => formatDeliveries(data, colors));
    });
}
