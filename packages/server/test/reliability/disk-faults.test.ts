import { join } from 'node:path';
import type { MessageBatch } from '@batchd/sdk';
import { afterAll, describe, expect, it } from 'vitest';
import { api, type Api, type ApiResponse } from '../../test-support/api/api.js';
import {
  createBatch,
  expectRequestId,
  fetchResults,
  listBatches,
  pollUntil,
  resultsById,
  retrieveBatch,
  tally,
  userRequest,
  userRequests,
  waitUntilEnded,
  type BatchRequest,
} from '../../test-support/api/batches.js';
import { expectSchema } from '../../test-support/api/openapi.js';
import { makeTempDir, startServer, type ServerHandle } from '../../test-support/process/server-process.js';
import { fillDisk, mountExt4Image, mountTmpfs, removeFile, setImmutable, unmount } from '../../test-support/process/fault-mounts.js';

/**
 * Storage faults under a running batchd: its disk fills up, or its database files become
 * read-only, while a batch runs. While the fault lasts, writes answer 5xx `api_error` envelopes
 * (never a hang, never a crash, never a 2xx for something not stored) and reads keep answering.
 * Once the fault clears, processing resumes: every request of every batch acknowledged before or
 * during the fault ends exactly once, and new creates work.
 */

/**
 * Per request 40 ms on 8 slots: the 2,000-request batch runs for about 10 s, long enough to straddle
 * the fault. No disk reserve: on these small filesystems it would refuse every create, and here the
 * writes are to meet the fault itself (the reserve has tests of its own, `storage-reserve.test.ts`).
 */
const SERVER_FLAGS = { 'emulator-latency-ms': 40, concurrency: 8, 'log-level': 'error', 'min-free-disk-mb': 0 };
const RUNNING_REQUESTS = 2_000;
/** Creates tried while the fault lasts; each is about 1 MiB, so a few exhaust the space SQLite already holds. */
const MAX_CREATES_DURING_FAULT = 40;
const CREATE_REQUESTS = 500;
/** Longest any single API call may take during the fault before it counts as a hang. */
const CALL_LIMIT_MS = 20_000;

const servers: ServerHandle[] = [];
const mounts: string[] = [];
const immutableFiles: string[] = [];

afterAll(async () => {
  await Promise.all(servers.map((server) => server.kill()));
  if (immutableFiles.length > 0) setImmutable(immutableFiles, false);
  for (const dir of mounts) unmount(dir);
});

interface Fault {
  /** Prepares the (empty) directory the database will live in. */
  mount(dir: string): Promise<void>;
  /** Starts the fault under the running server; returns how to clear it. */
  inject(server: ServerHandle): () => void;
  /**
   * Whether every write fails while the fault lasts. (A full disk may still take writes that fit
   * in space SQLite holds already, such as a write-ahead log reset after a checkpoint.)
   */
  failsEveryWrite: boolean;
}

interface Figures {
  createsRejected: number;
  createsAcknowledged: number;
  requestsAcknowledged: number;
  cancel: string;
  delete: string;
}

function within<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} got no answer within ${CALL_LIMIT_MS} ms`)), CALL_LIMIT_MS);
  });
  return Promise.race([promise, limit]).finally(() => clearTimeout(timer));
}

/** A 5xx answer in the error envelope, with `api_error` and the `request-id` header. */
function expectServerError(response: ApiResponse, what: string): void {
  const context = `${what}: ${response.status} ${response.text.slice(0, 300)}`;
  expect(response.status, context).toBeGreaterThanOrEqual(500);
  expect(response.status, context).toBeLessThan(600);
  const requestId = expectRequestId(response);
  expect(response.contentType ?? '', context).toMatch(/^application\/json/);
  const body = expectSchema<{ error: { type: string }; request_id: string }>('ErrorResponse', response.body);
  expect(body.error.type, context).toBe('api_error');
  expect(body.request_id).toBe(requestId);
}

/** Requests with about 2 KB of text each, so creates take real space. */
function paddedRequests(count: number, prefix: string): BatchRequest[] {
  return Array.from({ length: count }, (_, i) => userRequest(`${prefix}-${i}`, `${'x'.repeat(2_000)} ${prefix}-${i}`));
}

async function expectAllSucceeded(client: Api, batch: MessageBatch, ids: string[]): Promise<void> {
  const ended = await waitUntilEnded(client, batch.id, ids.length, { timeoutMs: 120_000, intervalMs: 200 });
  const lines = await fetchResults(client, ended);
  resultsById(lines, ids);
  expect(tally(lines)).toEqual({ succeeded: ids.length, errored: 0, canceled: 0, expired: 0 });
  expect(ended.request_counts.succeeded).toBe(ids.length);
}

async function runUnderFault(name: string, fault: Fault): Promise<Figures> {
  const dir = await makeTempDir('batchd-disk-');
  await fault.mount(dir);
  const server = await startServer({ dbDir: dir, flags: SERVER_FLAGS });
  servers.push(server);
  let exited = false;
  void server.exited.then(() => (exited = true));
  const client = api(server.url);

  const acknowledged = new Map<string, { batch: MessageBatch; ids: string[] }>();
  const remember = (batch: MessageBatch, requests: BatchRequest[]) => acknowledged.set(batch.id, { batch, ids: requests.map((r) => r.custom_id) });

  const endedRequests = userRequests(5, 'ended');
  const ended = await createBatch(client, endedRequests);
  await waitUntilEnded(client, ended.id, endedRequests.length);
  const runningRequests = userRequests(RUNNING_REQUESTS, 'running');
  const running = await createBatch(client, runningRequests);
  remember(running, runningRequests);
  const cancelRequests = userRequests(200, 'cancel');
  const toCancel = await createBatch(client, cancelRequests);
  await pollUntil(() => retrieveBatch(client, running.id), (batch) => batch.request_counts.succeeded >= 100, { what: 'the batch to make progress' });

  const clear = fault.inject(server);
  let createsRejected = 0;
  let createsAcknowledged = 0;
  let cancelOutcome: 'acknowledged' | 'rejected';
  let deleteOutcome: 'acknowledged' | 'rejected';
  try {
    for (let attempt = 0; attempt < MAX_CREATES_DURING_FAULT && createsRejected < 3; attempt++) {
      const requests = paddedRequests(CREATE_REQUESTS, `during${attempt}`);
      const response = await within(client.post<MessageBatch>('/v1/messages/batches', { requests }), `create ${attempt} during the fault`);
      if (response.status === 200) {
        remember(expectSchema<MessageBatch>('MessageBatch', response.body), requests);
        createsAcknowledged++;
      } else {
        expectServerError(response, `create ${attempt} during the fault`);
        createsRejected++;
      }
    }
    expect(createsRejected, `creates answered 5xx while the ${name} fault lasted`).toBeGreaterThan(0);

    // Reads keep answering.
    expect((await within(retrieveBatch(client, running.id), 'retrieve during the fault')).id).toBe(running.id);
    await within(listBatches(client, '?limit=5'), 'list during the fault');

    const cancel = await within(client.post<MessageBatch>(`/v1/messages/batches/${toCancel.id}/cancel`), 'cancel during the fault');
    cancelOutcome = cancel.status === 200 ? 'acknowledged' : 'rejected';
    if (cancel.status !== 200) expectServerError(cancel, 'cancel during the fault');
    const deletion = await within(client.delete(`/v1/messages/batches/${ended.id}`), 'delete during the fault');
    deleteOutcome = deletion.status === 200 ? 'acknowledged' : 'rejected';
    if (deletion.status !== 200) expectServerError(deletion, 'delete during the fault');

    if (fault.failsEveryWrite) {
      // The engine meets the fault too: its results stay in memory until they can be written.
      await pollUntil(async () => server.output().stderr, (stderr) => stderr.includes('writing results failed'), {
        timeoutMs: CALL_LIMIT_MS,
        what: 'the engine to find it cannot write results',
      });
    }
    expect((await within(client.get('/health'), 'health during the fault')).status).toBe(200);
  } finally {
    clear();
  }

  // Everything acknowledged ends, exactly once per request.
  for (const { batch, ids } of acknowledged.values()) await expectAllSucceeded(client, batch, ids);
  const canceled = await waitUntilEnded(client, toCancel.id, cancelRequests.length, { timeoutMs: 120_000 });
  const cancelLines = await fetchResults(client, canceled);
  resultsById(cancelLines, cancelRequests.map((r) => r.custom_id));
  const cancelTally = tally(cancelLines);
  expect(cancelTally.errored + cancelTally.expired).toBe(0);
  if (cancelOutcome === 'acknowledged') expect(canceled.cancel_initiated_at).not.toBeNull();
  else expect(cancelTally.succeeded).toBe(cancelRequests.length);
  const afterDelete = await client.get(`/v1/messages/batches/${ended.id}`);
  expect(afterDelete.status, 'a batch is gone exactly when its delete was acknowledged').toBe(deleteOutcome === 'acknowledged' ? 404 : 200);

  // New work is accepted and processed.
  const afterRequests = userRequests(20, 'after');
  await expectAllSucceeded(client, await createBatch(client, afterRequests), afterRequests.map((r) => r.custom_id));
  expect(exited, 'the server process is still running').toBe(false);

  const requestsAcknowledged = [...acknowledged.values()].reduce((sum, { ids }) => sum + ids.length, 0) + cancelRequests.length;
  return { createsRejected, createsAcknowledged, requestsAcknowledged, cancel: cancelOutcome, delete: deleteOutcome };
}

function report(name: string, figures: Figures): void {
  console.log(
    `[reliability] ${name}: ${figures.createsRejected} creates answered 5xx api_error and ${figures.createsAcknowledged} acknowledged ` +
      `during the fault (cancel ${figures.cancel}, delete ${figures.delete}); ${figures.requestsAcknowledged} acknowledged requests ` +
      `all ended exactly once after it cleared, 0 lost`,
  );
}

describe('storage faults under a running batch', () => {
  it('disk full: writes fail cleanly, nothing acknowledged is lost, processing resumes when space returns', async () => {
    const figures = await runUnderFault('disk full', {
      async mount(dir) {
        mountTmpfs(dir, 32);
        mounts.push(dir);
      },
      inject(server) {
        const filler = fillDisk(server.dbDir);
        return () => removeFile(filler.path);
      },
      failsEveryWrite: false,
    });
    report('disk full', figures);
  }, 240_000);

  it('disk filled by creates: past the reserve they answer 507, the running batch ends, and deletes make room again', async () => {
    const dir = await makeTempDir('batchd-reserve-');
    mountTmpfs(dir, 64);
    mounts.push(dir);
    // The reserve is the room for what acknowledged batches still write (results, the log's growth):
    // half the disk here, where the creates before the refusal hold about 30 MB of requests.
    const server = await startServer({ dbDir: dir, flags: { ...SERVER_FLAGS, 'min-free-disk-mb': 32, 'maintenance-interval': '200ms' } });
    servers.push(server);
    const client = api(server.url);
    const runningRequests = userRequests(RUNNING_REQUESTS, 'running');
    const running = await createBatch(client, runningRequests);
    // A client creating 1 MiB batches until it is refused.
    const filled: Array<{ batch: MessageBatch; ids: string[] }> = [];
    let refused: ApiResponse | undefined;
    for (let attempt = 0; attempt < MAX_CREATES_DURING_FAULT && !refused; attempt++) {
      const requests = paddedRequests(CREATE_REQUESTS, `filler${attempt}`);
      const response = await within(client.post<MessageBatch>('/v1/messages/batches', { requests }), `create ${attempt}`);
      if (response.status === 200) filled.push({ batch: response.body, ids: requests.map((r) => r.custom_id) });
      else refused = response;
    }
    expect(refused, 'a create was refused before the disk filled').toBeDefined();
    expect(refused!.status).toBe(507);
    expectServerError(refused!, 'the create past the reserve');
    expect(refused!.headers.get('x-should-retry')).toBe('false');
    expect(filled.length).toBeGreaterThan(0);

    // What was acknowledged runs to the end, and deleting it makes room for new creates.
    await expectAllSucceeded(client, running, runningRequests.map((r) => r.custom_id));
    for (const { batch, ids } of filled) {
      await expectAllSucceeded(client, batch, ids);
      expect((await client.delete(`/v1/messages/batches/${batch.id}`)).status).toBe(200);
    }
    // Maintenance purges the deleted batches' rows; their pages are then free for a new create.
    const afterRequests = paddedRequests(CREATE_REQUESTS, 'after');
    const after = await pollUntil(
      () => client.post<MessageBatch>('/v1/messages/batches', { requests: afterRequests }),
      (response) => response.status === 200,
      { what: 'a create once the deleted batches were purged', timeoutMs: 60_000, intervalMs: 250 },
    );
    await expectAllSucceeded(client, after.body, afterRequests.map((r) => r.custom_id));
  }, 240_000);

  it('database read-only: writes fail cleanly, nothing acknowledged is lost, processing resumes when writable again', async () => {
    const imageDir = await makeTempDir('batchd-image-');
    const figures = await runUnderFault('database read-only', {
      async mount(dir) {
        mountExt4Image(join(imageDir, 'disk.img'), dir, 64);
        mounts.push(dir);
      },
      inject(server) {
        const files = [server.dbPath, `${server.dbPath}-wal`];
        setImmutable(files, true);
        immutableFiles.push(...files);
        return () => {
          setImmutable(files, false);
          immutableFiles.length = 0;
        };
      },
      failsEveryWrite: true,
    });
    report('database read-only', figures);
  }, 240_000);
});
