import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { createTestDatabase, postgresUnavailable, type TestDatabase } from '../../../test-support/postgres/test-database.js';
import type { Completion, NewRequest } from '../store.js';
import { runBatchCreatesContract } from '../../../test-support/contracts/batch-creates-contract.js';
import { runCompletedResultsContract } from '../../../test-support/contracts/completed-results-contract.js';
import { runFileStoreContract } from '../../../test-support/contracts/file-store-contract.js';
import { runQuarantineContract } from '../../../test-support/contracts/quarantine-contract.js';
import { runProviderBatchContract } from '../../../test-support/contracts/provider-batch-contract.js';
import { runStoreContract } from '../../../test-support/contracts/store-contract.js';
import { migratePostgres, POSTGRES_MIGRATIONS } from './migrations.js';
import { PostgresStore } from './postgres-store.js';

const unavailable = postgresUnavailable();
const databases: TestDatabase[] = [];
afterAll(async () => {
  for (const database of databases) await database.drop();
});

async function freshDatabase(options?: { migrated?: boolean }): Promise<string> {
  const database = await createTestDatabase(options);
  databases.push(database);
  return database.url;
}

if (unavailable) {
  describe('postgres store', () => {
    it.skip(`runs only with PostgreSQL (${unavailable.replace(/\s+/g, ' ')})`, () => undefined);
  });
} else {
  runStoreContract('postgres', async () => PostgresStore.open(await freshDatabase()));
  runBatchCreatesContract('postgres', async () => PostgresStore.open(await freshDatabase()));
  runCompletedResultsContract('postgres', async () => PostgresStore.open(await freshDatabase()));
  runFileStoreContract('postgres', async () => PostgresStore.open(await freshDatabase()));
  runQuarantineContract('postgres', async () => PostgresStore.open(await freshDatabase()));
  runProviderBatchContract('postgres', async () => PostgresStore.open(await freshDatabase()));
}

const T0 = 1_800_000_000_000;
const HOUR = 3_600_000;
let nextId = 5000;

function newBatch(workspaceId = 'w') {
  const id = `msgbatch_01PG${String(nextId++).padStart(20, '0')}`;
  return { id, workspaceId, createdAt: T0, expiresAt: T0 + 24 * HOUR, archiveAt: T0 + 29 * 24 * HOUR };
}

/** JSON text with what COPY's text format must escape: backslashes, and raw tab, CR and LF between tokens. */
const paramsOf = (i: number) => `{"n":${i},\t"text":"tab\\t, newline\\n, quote \\" and backslash \\\\",\r\n"end":true}`;

/** `count` requests in chunks of 1000, as the create route hands them over. */
async function* requests(count: number, prefix = 'r', onChunk?: (sent: number) => Promise<void>): AsyncGenerator<NewRequest[]> {
  for (let start = 0; start < count; start += 1000) {
    if (onChunk) await onChunk(start);
    const chunk: NewRequest[] = [];
    for (let i = start; i < Math.min(count, start + 1000); i++) chunk.push({ customId: `${prefix}${i}`, params: paramsOf(i) });
    yield chunk;
  }
}

const succeeded = (key: number): Completion => ({ key, type: 'succeeded', result: `{"type":"succeeded","message":{"k":${key}}}` });

async function scalar(url: string, sql: string, values: unknown[] = []): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ value: string }>(sql, values);
    return Number(rows[0]!.value);
  } finally {
    await client.end();
  }
}

describe.skipIf(unavailable !== null)('postgres store across processes', () => {
  it('never leases one request to two stores claiming concurrently', async () => {
    const url = await freshDatabase();
    const [a, b, creator] = await Promise.all([PostgresStore.open(url), PostgresStore.open(url), PostgresStore.open(url)]);
    try {
      const sizes = [1500, 400, 37];
      const batches = [];
      for (const size of sizes) batches.push(await creator.createBatch(newBatch(), requests(size)));
      const seen = new Map<number, string>();
      let rounds = 0;
      for (;;) {
        rounds++;
        const [fromA, fromB] = await Promise.all([a.claimRequests('node-a', 40, T0 + HOUR, T0), b.claimRequests('node-b', 40, T0 + HOUR, T0)]);
        if (fromA.length === 0 && fromB.length === 0) break;
        for (const [owner, claimed] of [['node-a', fromA], ['node-b', fromB]] as const) {
          for (const request of claimed) {
            expect(seen.get(request.key), `request ${request.key} leased twice`).toBeUndefined();
            seen.set(request.key, owner);
          }
        }
        await Promise.all([
          a.completeRequests('node-a', fromA.map((r) => succeeded(r.key)), T0 + rounds),
          b.completeRequests('node-b', fromB.map((r) => succeeded(r.key)), T0 + rounds),
        ]);
      }
      const total = sizes.reduce((sum, size) => sum + size, 0);
      expect(seen.size).toBe(total);
      expect(rounds).toBeGreaterThan(20);
      expect(new Set(seen.values())).toEqual(new Set(['node-a', 'node-b']));
      for (const [i, batch] of batches.entries()) {
        const ended = (await creator.getBatch('w', batch.id))!;
        expect(ended.status).toBe('ended');
        expect(ended.counts).toEqual({ processing: 0, succeeded: sizes[i], errored: 0, canceled: 0, expired: 0 });
      }
    } finally {
      await Promise.all([a.close(), b.close(), creator.close()]);
    }
  });

  it('shares backend pauses between nodes, keeping the latest end of each', async () => {
    const url = await freshDatabase();
    const [a, b] = await Promise.all([PostgresStore.open(url), PostgresStore.open(url)]);
    try {
      await a.pauseBackend('hosted', 5_000);
      await b.pauseBackend('hosted', 4_000);
      await b.pauseBackend('gpu', 2_000);
      expect(await b.backendPauses(1_000)).toEqual(new Map([['hosted', 5_000], ['gpu', 2_000]]));
      expect(await a.backendPauses(3_000)).toEqual(new Map([['hosted', 5_000]]));
      expect(await a.backendPauses(5_000)).toEqual(new Map());
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('applies the migrations once when three connections migrate at the same time', async () => {
    const url = await freshDatabase({ migrated: false });
    const applied = await Promise.all([migratePostgres(url), migratePostgres(url), migratePostgres(url)]);
    expect(applied.flat()).toEqual(POSTGRES_MIGRATIONS.map((m) => m.version));
    expect(applied.filter((versions) => versions.length > 0)).toHaveLength(1);
    expect(await scalar(url, 'SELECT count(*) AS value FROM batchd.migrations')).toBe(POSTGRES_MIGRATIONS.length);
    expect(await migratePostgres(url)).toEqual([]);
  });

  it('creates batches from stored files, more at once than the pool has connections', async () => {
    const store = await PostgresStore.open(await freshDatabase(), { poolSize: 2 });
    try {
      const file = await store.files.createFile(
        { id: 'file-pooled', workspaceId: 'w', purpose: 'batch', filename: 'in.jsonl', createdAt: T0 },
        (async function* () {
          for (let i = 0; i < 3; i++) yield Buffer.from(`chunk ${i}\n`);
        })(),
      );
      async function* fromFile(): AsyncGenerator<NewRequest[]> {
        let n = 0;
        for await (const chunk of store.files.readFile('w', file.id)) {
          for (const line of chunk.toString().split('\n').filter(Boolean)) yield [{ customId: `c${n++}`, params: JSON.stringify({ text: line }) }];
        }
      }
      const batches = await Promise.all([1, 2, 3].map(() => store.createBatch(newBatch(), fromFile())));
      expect(batches.map((batch) => batch.counts.processing)).toEqual([3, 3, 3]);
    } finally {
      await store.close();
    }
  });

  it('copies a 100,000-request create in one transaction, and stores nothing when it fails half way', async () => {
    const url = await freshDatabase();
    const store = await PostgresStore.open(url);
    try {
      let visibleMidway = -1;
      const started = performance.now();
      const batch = await store.createBatch(
        newBatch(),
        requests(100_000, 'r', async (sent) => {
          if (sent === 50_000) visibleMidway = await scalar(url, 'SELECT count(*) AS value FROM batchd.requests');
        }),
      );
      const elapsed = performance.now() - started;
      console.info(`100,000-request create via COPY: ${elapsed.toFixed(0)} ms`);
      expect(visibleMidway).toBe(0);
      expect(batch.counts.processing).toBe(100_000);
      expect(await scalar(url, 'SELECT count(*) AS value FROM batchd.requests')).toBe(100_000);
      const [first] = await store.claimRequests('a', 1, T0 + HOUR, T0);
      expect(first!.params).toBe(paramsOf(0));
      expect(JSON.parse(first!.params)).toEqual({ n: 0, text: 'tab\t, newline\n, quote " and backslash \\', end: true });

      const failing = newBatch();
      await expect(
        store.createBatch(
          failing,
          requests(100_000, 'f', async (sent) => {
            if (sent === 50_000) throw new Error('body cut off');
          }),
        ),
      ).rejects.toThrow('body cut off');
      expect(await store.getBatch('w', failing.id)).toBeNull();
      expect(await scalar(url, 'SELECT count(*) AS value FROM batchd.requests')).toBe(100_000);
      expect(await scalar(url, 'SELECT count(*) AS value FROM batchd.batches')).toBe(1);
      const after = await store.createBatch(newBatch(), requests(3));
      expect(after.counts.processing).toBe(3);
    } finally {
      await store.close();
    }
  });

  it('wakes a subscriber of another store when work arrives, also after its connection drops', async () => {
    const url = await freshDatabase();
    const [worker, api] = await Promise.all([PostgresStore.open(url), PostgresStore.open(url)]);
    try {
      let wakes = 0;
      let waiting: (() => void) | null = null;
      const nextWake = () => new Promise<void>((resolve) => (waiting = resolve));
      const unsubscribe = worker.subscribeWork(() => {
        wakes++;
        waiting?.();
      });
      await (wakes > 0 ? Promise.resolve() : nextWake()); // the wake that follows connecting
      const created = nextWake();
      await api.createBatch(newBatch(), requests(2));
      await created;

      const reconnected = nextWake();
      const listeners = await scalar(url, `SELECT count(pg_terminate_backend(pid)) AS value FROM pg_stat_activity
        WHERE datname = current_database() AND query = 'LISTEN batchd_work'`);
      expect(listeners).toBe(1);
      await reconnected;
      const requeued = nextWake();
      const [claimed] = await api.claimRequests('n', 1, T0 + HOUR, T0);
      await api.retryRequests('n', [{ key: claimed!.key, runAt: T0 }], T0);
      await requeued;

      // Listeners are called together for each notification: once the one still subscribed
      // has been woken, a removed one would have been too.
      unsubscribe();
      const before = wakes;
      const stillSubscribed = new Promise<void>((resolve) => worker.subscribeWork(resolve));
      await api.createBatch(newBatch(), requests(1));
      await stillSubscribed;
      expect(wakes).toBe(before);
    } finally {
      await Promise.all([worker.close(), api.close()]);
    }
  });

  it('streams the results of a large batch in bounded pages, in request order', async () => {
    const url = await freshDatabase();
    const store = await PostgresStore.open(url);
    try {
      const batch = await store.createBatch(newBatch(), requests(12_345));
      for (;;) {
        const claimed = await store.claimRequests('a', 1000, T0 + HOUR, T0);
        if (claimed.length === 0) break;
        await store.completeRequests('a', claimed.map((r) => succeeded(r.key)), T0 + 1);
      }
      expect((await store.getBatch('w', batch.id))!.status).toBe('ended');
      const pageLines: number[] = [];
      const ids: string[] = [];
      for await (const page of store.readResults(batch.id, 1000)) {
        const lines = page.toString('utf8').split('\n');
        expect(lines.pop()).toBe('');
        pageLines.push(lines.length);
        for (const line of lines) ids.push((JSON.parse(line) as { custom_id: string }).custom_id);
      }
      expect(pageLines).toEqual([...Array(12).fill(1000), 345]);
      expect(ids).toEqual(Array.from({ length: 12_345 }, (_, i) => `r${i}`));
    } finally {
      await store.close();
    }
  });

  it('counts each request once when three nodes run maintenance, cancel and retries at once', async () => {
    const url = await freshDatabase();
    const nodes = await Promise.all([PostgresStore.open(url), PostgresStore.open(url), PostgresStore.open(url)]);
    try {
      const [one, two, three] = nodes as [PostgresStore, PostgresStore, PostgresStore];
      const overdue = await one.createBatch({ ...newBatch(), expiresAt: T0 + 1000 }, requests(3000));
      const canceled = await one.createBatch(newBatch(), requests(3000, 'c'));
      const lapsed = await one.claimRequests('gone', 2000, T0 + 10, T0);
      const held = await two.claimRequests('alive', 500, T0 + HOUR, T0);
      const now = T0 + 2000;
      await Promise.all([
        ...nodes.flatMap((node) => [node.reclaimExpiredLeases(now), node.expireBatches(now), node.archiveBatches(now)]),
        three.cancelBatch('w', canceled.id, now),
        two.cancelBatch('w', canceled.id, now),
        two.retryRequests('alive', held.slice(0, 250).map((r) => ({ key: r.key, runAt: now })), now),
        two.completeRequests('alive', held.slice(250).map((r) => succeeded(r.key)), now),
      ]);
      await Promise.all(nodes.map((node) => node.expireBatches(now)));
      expect(lapsed.length + held.length).toBe(2500);
      for (const batch of [overdue, canceled]) {
        const after = (await one.getBatch('w', batch.id))!;
        const { processing, succeeded: ok, errored, canceled: gone, expired } = after.counts;
        expect(processing + ok + errored + gone + expired).toBe(3000);
        expect(processing).toBe(0);
        expect(after.status).toBe('ended');
        for (const [type, count] of Object.entries({ succeeded: ok, errored, canceled: gone, expired })) {
          const rows = await scalar(url, `SELECT count(*) AS value FROM batchd.requests r JOIN batchd.batches b ON b.seq = r.batch_seq
            WHERE b.id = $1 AND r.state = 'done' AND r.result_type = $2`, [batch.id, type]);
          expect(rows, type).toBe(count);
        }
      }
    } finally {
      await Promise.all(nodes.map((node) => node.close()));
    }
  });
});
