import type { WebhookDelivery, WebhookEndpoint } from '@batchd/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, type CliResult } from '../test-support/process/run-cli.js';
import { api, TEST_API_KEY } from '../test-support/api/api.js';
import { createBatch, pollUntil, userRequests, waitUntilEnded } from '../test-support/api/batches.js';
import { startServer, type ServerHandle } from '../test-support/process/server-process.js';
import { WebhookReceiver } from '../test-support/fakes/webhook-receiver.js';

/** `batchd webhooks …` run as a subprocess against a running batchd. */

let server: ServerHandle;
let hooks: WebhookReceiver;

beforeAll(async () => {
  [server, hooks] = await Promise.all([
    startServer({ flags: { 'maintenance-interval': '100ms', 'log-level': 'warn', 'webhook-retry-base': '1ms' } }),
    WebhookReceiver.start((index) => (index === 0 ? 503 : 200)),
  ]);
});

afterAll(async () => {
  await hooks.close();
});

function webhooks(...args: string[]): Promise<CliResult> {
  return runCli(['webhooks', ...args, '--base-url', server.url, '--api-key', TEST_API_KEY]);
}

async function json<T>(...args: string[]): Promise<T> {
  const result = await webhooks(...args, '--json');
  expect(result.code, result.stderr).toBe(0);
  return JSON.parse(result.stdout) as T;
}

describe('batchd webhooks', () => {
  it('adds, lists, shows the delivery log of, and removes endpoints', async () => {
    const added = await webhooks('add', hooks.url, '--description', 'CLI receiver');
    expect(added.code, added.stderr).toBe(0);
    const [, id, secret] = /^added (whep_\w+) for \S+\nsecret (whsec_\S+)\n$/.exec(added.stdout) ?? [];
    expect(id, added.stdout).toBeDefined();
    const second = await json<WebhookEndpoint>('add', 'https://hooks.example.com/unused');

    const listed = await webhooks('list');
    expect(listed.stdout.split('\n')[0]).toMatch(/^ID\s+URL\s+DESCRIPTION\s+CREATED\s+STATE$/);
    expect(listed.stdout).toMatch(new RegExp(`${id}\\s+${hooks.url}\\s+CLI receiver\\s+\\d{4}-`));
    expect(listed.stdout).not.toContain(secret!);
    expect((await json<{ data: WebhookEndpoint[] }>('list')).data.map((e) => [e.id, e.secret])).toEqual([
      [id, secret],
      [second.id, second.secret],
    ]);

    const client = api(server.url);
    const batch = await createBatch(client, userRequests(1, 'cli-hook'));
    await waitUntilEnded(client, batch.id, 1);
    const [delivery] = await pollUntil(
      async () => (await json<{ data: WebhookDelivery[] }>('deliveries', id!)).data,
      (data) => data[0]?.status === 'delivered',
      { what: 'the delivery to be delivered' },
    );
    expect(delivery!.attempt_log.map((a) => a.status_code)).toEqual([503, 200]);
    const table = await webhooks('deliveries');
    expect(table.stdout.split('\n')[0]).toMatch(/^DELIVERY\s+ENDPOINT\s+EVENT\s+BATCH\s+STATUS\s+ATTEMPTS\s+LAST CODE\s+NEXT ATTEMPT\s+LAST ERROR$/);
    expect(table.stdout).toMatch(new RegExp(`${delivery!.id}\\s+${id}\\s+batch\\.ended\\s+${batch.id}\\s+delivered\\s+2\\s+200\\s+-\\s+-`));
    // The unused endpoint got its own delivery of the same event.
    expect(table.stdout).toContain(second.id);

    expect((await webhooks('retry', id!, delivery!.id)).stdout).toBe(`${delivery!.id} is pending\n`);
    await pollUntil(
      async () => (await json<{ data: WebhookDelivery[] }>('deliveries', id!)).data[0]!,
      (again) => again.status === 'delivered' && again.attempts === 3,
      { what: 'the retried delivery to be delivered' },
    );

    expect((await webhooks('remove', second.id)).stdout).toBe(`removed ${second.id}\n`);
    const again = await webhooks('remove', second.id);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/^error: not_found_error: No webhook endpoint with id "whep_\w+"\. \(request req_\w+\)\n$/);
    const bad = await webhooks('add', 'ftp://example.com/');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('invalid_request_error: "url": must be http or https, got ftp.');
  });
});
