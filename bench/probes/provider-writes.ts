import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RESULTS_GROUP } from '../../packages/server/src/engine/provider-result-groups.js';
import { SqliteStore } from '../../packages/server/src/store/sqlite/sqlite-store.js';
import type { ProviderCompletion } from '../../packages/server/src/store/provider-batch-store.js';
import type { NewRequest } from '../../packages/server/src/store/store.js';

/**
 * What writing a provider batch's results costs the SQLite store: a batch of 100,000 requests
 * routed to a provider-batch backend and gathered into one submission, then every result written
 * through `completeSubmitted` in groups of `RESULTS_GROUP` as a download writes them (a
 * succeeded Messages result of about 450 bytes each), then the submission closed. Prints, for each
 * of three rounds (each on a new file), the CPU of the writes (every thread of the process), their
 * time on the event loop, and the CPU of the close (which forgets the ended requests). Findings 25
 * and 31 used it.
 *
 *   node bench/dist/bench/probes/provider-writes.js
 */

const REQUESTS = 100_000;
const GROUP = RESULTS_GROUP;
const ROUNDS = 3;
const params = JSON.stringify({ model: 'claude-sonnet-4-5', max_tokens: 64, messages: [{ role: 'user', content: 'Item 1: a short question' }] });
const text = 'The answer, said at some length so the result is as long as a short reply. '.repeat(4);
const usage = { input_tokens: 12, output_tokens: 80, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 };

async function* chunks(): AsyncIterable<NewRequest[]> {
  for (let first = 0; first < REQUESTS; first += 1_000) yield Array.from({ length: 1_000 }, (_, i) => ({ customId: `req-${first + i}`, params }));
}

function result(key: number): string {
  return JSON.stringify({ type: 'succeeded', message: { id: `msg_${key}`, type: 'message', role: 'assistant', model: 'claude-sonnet-4-5', content: [{ type: 'text', text }], stop_reason: 'end_turn', stop_sequence: null, usage } });
}

async function round(): Promise<{ writeMs: number; wallMs: number; closeMs: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'batchd-provider-writes-'));
  const store = new SqliteStore(join(dir, 'batchd.sqlite'));
  const now = Date.now();
  await store.createBatch({ id: 'msgbatch_probe', workspaceId: 'w', createdAt: now, expiresAt: now + 86_400_000, archiveAt: now + 2 * 86_400_000 }, chunks());
  const batches = store.providerBatches;
  while ((await batches.routeQueued('provider', '/v1/chat/completions', 10_000, Date.now())) > 0);
  const submission = await batches.openSubmission('provider', 'probe', Date.now() + 60_000, { maxRequests: REQUESTS, maxBytes: 256 * 1024 * 1024 }, Date.now());
  if (!submission || submission.requestCount !== REQUESTS) throw new Error('the submission did not take every request');
  const firstKey = (await batches.submissionRequests(submission.id, 0, 1))[0]!.key;
  const completions: ProviderCompletion[] = Array.from({ length: REQUESTS }, (_, i) => ({ key: firstKey + i, type: 'succeeded', result: result(firstKey + i), usage }));
  const wallStart = performance.now();
  let start = process.cpuUsage();
  for (let at = 0; at < REQUESTS; at += GROUP) await batches.completeSubmitted(submission.id, completions.slice(at, at + GROUP), Date.now());
  const written = process.cpuUsage(start);
  const wallMs = performance.now() - wallStart;
  start = process.cpuUsage();
  await batches.closeSubmission(submission.id, 'probe');
  const closed = process.cpuUsage(start);
  const batch = await store.getBatch('w', 'msgbatch_probe');
  if (batch?.status !== 'ended') throw new Error(`the batch did not end: ${batch?.status}`);
  await store.close();
  rmSync(dir, { recursive: true, force: true });
  const ms = (usage: NodeJS.CpuUsage) => (usage.user + usage.system) / 1000;
  return { writeMs: ms(written), wallMs, closeMs: ms(closed) };
}

const rounds = [];
for (let i = 0; i < ROUNDS; i++) rounds.push(await round());
console.log(`100,000 results in groups of ${GROUP}: write CPU ${rounds.map((r) => r.writeMs.toFixed(0)).join(' / ')} ms (wall ${rounds.map((r) => r.wallMs.toFixed(0)).join(' / ')} ms), close ${rounds.map((r) => r.closeMs.toFixed(0)).join(' / ')} ms`);
