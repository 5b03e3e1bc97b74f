import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteStore } from '../../packages/server/src/store/sqlite/sqlite-store.js';
import type { NewRequest } from '../../packages/server/src/store/store.js';

/**
 * What the SQLite store's claims and completions cost right after a large create, in the process
 * that made it (`same`) and in one that reopened the file (`reopen`): a batch of 100,000 requests
 * through `SqliteStore.createBatch`, then rounds of a claim of 40 and their completion, each
 * timed. Finding 24 used it to find why the first process paid several times more per call.
 *
 *   node bench/dist/bench/probes/store-after-create.js same
 *   node bench/dist/bench/probes/store-after-create.js reopen
 */

const REQUESTS = 100_000;
const ROUNDS = 1_200;
const PER_CLAIM = 40;

const mode = process.argv[2] === 'reopen' ? 'reopen' : 'same';
const dir = mkdtempSync(join(tmpdir(), 'batchd-after-create-'));
const path = join(dir, 'batchd.sqlite');
const params = JSON.stringify({ model: 'claude-sonnet-4-5', max_tokens: 64, messages: [{ role: 'user', content: 'Item 1: a short question' }] });

async function* chunks(): AsyncIterable<NewRequest[]> {
  for (let first = 0; first < REQUESTS; first += 1_000) {
    yield Array.from({ length: 1_000 }, (_, i) => ({ customId: `req-${first + i}`, params }));
  }
}

let store = new SqliteStore(path);
const now = Date.now();
await store.createBatch({ id: 'msgbatch_probe', workspaceId: 'w', createdAt: now, expiresAt: now + 86_400_000, archiveAt: now + 2 * 86_400_000 }, chunks());
if (mode === 'reopen') {
  await store.close();
  store = new SqliteStore(path);
}

const claimMs: number[] = [];
const completeMs: number[] = [];
for (let round = 0; round < ROUNDS; round++) {
  let start = performance.now();
  const claimed = await store.claimRequests('probe', PER_CLAIM, Date.now() + 60_000, Date.now());
  claimMs.push(performance.now() - start);
  start = performance.now();
  await store.completeRequests('probe', claimed.map((request) => ({ key: request.key, type: 'succeeded' as const, result: '{"type":"succeeded"}' })), Date.now());
  completeMs.push(performance.now() - start);
}
await store.close();
rmSync(dir, { recursive: true, force: true });

const mean = (values: number[]): string => (values.reduce((sum, value) => sum + value, 0) / values.length).toFixed(3);
console.log(`${mode}: ms per call of ${PER_CLAIM}, first 100 rounds / last 100`);
console.log(`  claim     ${mean(claimMs.slice(0, 100))} / ${mean(claimMs.slice(-100))}`);
console.log(`  complete  ${mean(completeMs.slice(0, 100))} / ${mean(completeMs.slice(-100))}`);
