import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, expect, it } from 'vitest';
import type { ProviderBatchClient, ProviderBatchLine, ProviderBatchLines, ProviderBatchStatus, ProviderLineResult } from '../backends/provider-batch/provider-batch-client.js';
import { PriceList } from '../pricing/price-list.js';
import { SqliteStore } from '../store/sqlite/sqlite-store.js';
import { ProviderBatchStats } from './provider-batch-stats.js';
import { ProviderBatches } from './provider-batches.js';
import { waitFor } from '../../test-support/turns.js';

/** A provider whose one batch reports the status the test sets; its results are every line expired. */
class CountingProvider implements ProviderBatchClient {
  readonly kind = 'openai-batch';
  readonly limits = { maxRequests: 1000, maxBytes: 1_000_000 };
  submitted: string[] = [];
  retrieves = 0;
  /** The status each results call was given. */
  resultsAsked: Array<ProviderBatchStatus | undefined> = [];
  status: ProviderBatchStatus = { state: 'in_progress', counts: { processing: 8, succeeded: 0, errored: 0, canceled: 0, expired: 0 } };

  async submit(submission: { lines: ProviderBatchLines }): Promise<{ providerBatchId: string }> {
    for await (const page of submission.lines as AsyncIterable<readonly ProviderBatchLine[]>) this.submitted.push(...page.map((line) => line.customId));
    return { providerBatchId: 'batch_counting' };
  }
  async find(): Promise<string | undefined> {
    return undefined;
  }
  async retrieve(): Promise<ProviderBatchStatus> {
    this.retrieves += 1;
    return this.status;
  }
  async cancel(): Promise<void> {}
  async *results(_id: string, _signal: AbortSignal, ended?: ProviderBatchStatus): AsyncIterable<ProviderLineResult[]> {
    this.resultsAsked.push(ended);
    yield this.submitted.map((customId) => ({ customId, outcome: { type: 'expired' as const } }));
  }
}

let dir: string;
let store: SqliteStore;
let batches: ProviderBatches;
afterEach(async () => {
  await batches?.stop();
  await store?.close();
  rmSync(dir, { recursive: true, force: true });
});

it('polls a provider batch whose counts move when they say its last request finishes, before the interval is up, and reads the results where the poll that saw it end says', async () => {
  dir = mkdtempSync(join(tmpdir(), 'batchd-poll-'));
  store = new SqliteStore(join(dir, 'db.sqlite'));
  let now = Date.parse('2026-06-01T00:00:00Z');
  const interval = 60_000;
  await store.createBatch(
    { id: 'msgbatch_01counting', workspaceId: 'w', createdAt: now, expiresAt: now + 86_400_000, archiveAt: now + 2 * 86_400_000, providerBackend: 'pb' },
    (async function* () {
      yield Array.from({ length: 8 }, (_, i) => ({ customId: `r${i}`, params: JSON.stringify({ model: 'gpt-x', max_tokens: 16, messages: [{ role: 'user', content: `q${i}` }] }) }));
    })(),
  );
  const provider = new CountingProvider();
  const stats = new ProviderBatchStats('pb');
  batches = new ProviderBatches({
    name: 'pb', type: 'openai-batch', client: provider, store: store.providerBatches, clock: { now: () => now }, logger: pino({ level: 'silent' }),
    owner: 'owner-poll', pollIntervalMs: interval, leaseMs: 10 * interval, prices: new PriceList(), stats,
  });
  const submission = async () => (await store.providerBatches.batchSubmissions('msgbatch_01counting'))[0];

  batches.routed(true);
  await waitFor('the submit', async () => (await submission())?.state === 'in_progress');
  expect(provider.submitted).toHaveLength(8);
  const intent = (await submission())!.createdAt;

  // An interval after the submit: 6 of 8 finished in a minute, so the last 2 take 20 s more.
  now += interval;
  provider.status = { state: 'in_progress', counts: { processing: 2, succeeded: 5, errored: 1, canceled: 0, expired: 0 } };
  batches.wake();
  await waitFor('the first poll', async () => (await submission())?.polledAt === now);
  expect(provider.retrieves).toBe(1);
  expect(now - intent).toBe(interval);

  // Twenty seconds on, a turn polls again, 40 s before the interval is up.
  now += 20_000;
  batches.wake();
  await waitFor('the poll the counts set', async () => (await submission())?.polledAt === now);
  expect(provider.retrieves).toBe(2);
  expect(stats.polls).toBe(2);

  // The next poll, an interval on, sees it ended: its results are read from where that answer says, without asking again.
  now += interval;
  provider.status = { state: 'ended', counts: { processing: 0, succeeded: 0, errored: 0, canceled: 0, expired: 8 }, results: [new URL('http://provider.test/results/1')] };
  batches.wake();
  await waitFor('the submission closed', async () => (await submission())?.state === 'closed');
  expect(provider.retrieves).toBe(3);
  expect(provider.resultsAsked).toEqual([provider.status]);
  expect((await store.getBatch('w', 'msgbatch_01counting'))?.counts).toMatchObject({ expired: 8, processing: 0 });
});
