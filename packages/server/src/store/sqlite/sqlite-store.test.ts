import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { runBatchCreatesContract } from '../../../test-support/contracts/batch-creates-contract.js';
import { runCompletedResultsContract } from '../../../test-support/contracts/completed-results-contract.js';
import { runFileStoreContract } from '../../../test-support/contracts/file-store-contract.js';
import { runQuarantineContract } from '../../../test-support/contracts/quarantine-contract.js';
import { runProviderBatchContract } from '../../../test-support/contracts/provider-batch-contract.js';
import { runStoreContract } from '../../../test-support/contracts/store-contract.js';
import { turnsDuring } from '../../../test-support/turns.js';
import { MAX_LEASE_LOSSES } from '../quarantine.js';
import { SQLITE_MIGRATIONS } from './migrations.js';
import { SqliteStore } from './sqlite-store.js';

const dir = mkdtempSync(join(tmpdir(), 'batchd-sqlite-'));
let files = 0;
afterAll(() => rmSync(dir, { recursive: true, force: true }));

runStoreContract('sqlite', async () => new SqliteStore(join(dir, `store-${files++}.sqlite`)));
runBatchCreatesContract('sqlite', async () => new SqliteStore(join(dir, `store-${files++}.sqlite`)));
runCompletedResultsContract('sqlite', async () => new SqliteStore(join(dir, `store-${files++}.sqlite`)));
runFileStoreContract('sqlite', async () => new SqliteStore(join(dir, `store-${files++}.sqlite`)));
runQuarantineContract('sqlite', async () => new SqliteStore(join(dir, `store-${files++}.sqlite`)));
runProviderBatchContract('sqlite', async () => new SqliteStore(join(dir, `store-${files++}.sqlite`)));

describe('sqlite store on reopen', () => {
  it('releases leases and discards unfinished creates left by a stopped process', async () => {
    const path = join(dir, 'reopen.sqlite');
    const first = new SqliteStore(path);
    const T0 = 1_800_000_000_000;
    const batch = await first.createBatch(
      { id: 'msgbatch_01reopen', workspaceId: 'w', createdAt: T0, expiresAt: T0 + 1e7, archiveAt: T0 + 1e8 },
      (async function* () {
        yield [{ customId: 'a', params: '{}' }, { customId: 'b', params: '{}' }];
      })(),
    );
    const claimed = await first.claimRequests('gone', 2, T0 + 1e6, T0);
    expect(claimed).toHaveLength(2);
    // A create still streaming when the process stops: its rows are there, its batch is not visible.
    let release!: () => void;
    const stalled = first.createBatch(
      { id: 'msgbatch_01stalled', workspaceId: 'w', createdAt: T0, expiresAt: T0 + 1e7, archiveAt: T0 + 1e8 },
      (async function* () {
        yield [{ customId: 'x', params: '{}' }];
        await new Promise<void>((resolve) => (release = resolve));
      })(),
    );
    await new Promise((resolve) => setImmediate(resolve));
    expect(await first.getBatch('w', 'msgbatch_01stalled')).toBeNull();

    const second = new SqliteStore(path);
    const reclaimed = await second.claimRequests('new', 10, T0 + 1e6, T0);
    expect(reclaimed.map((r) => r.customId).sort()).toEqual(['a', 'b']);
    expect(reclaimed.every((r) => r.batchId === batch.id)).toBe(true);
    await second.close();
    release();
    await stalled.catch(() => undefined);
    await first.close();
    // The discarded create's params went with its requests.
    const file = new Database(path, { readonly: true });
    expect(file.prepare('SELECT key FROM request_params ORDER BY key').pluck().all()).toEqual(reclaimed.map((r) => r.key).sort());
    file.close();
  });

  it('purges params with their requests, pieces included', async () => {
    const path = join(dir, 'purge-params.sqlite');
    const T0 = 1_800_000_000_000;
    const store = new SqliteStore(path);
    const batch = await store.createBatch(
      { id: 'msgbatch_01purged', workspaceId: 'w', createdAt: T0, expiresAt: T0 + 1e7, archiveAt: T0 + 1e8 },
      (async function* () {
        yield [{ customId: 'a', params: '{"a":1}' }, { customId: 'b', params: ['{"b":', '2', '}'] }];
      })(),
    );
    const pieces = (file: Database.Database) => file.prepare('SELECT key, piece, text FROM request_param_pieces ORDER BY key, piece').raw().all();
    const reader = new Database(path, { readonly: true });
    const claimed = await store.claimRequests('owner', 2, T0 + 1e6, T0);
    expect(claimed.map((r) => r.params).sort()).toEqual(['{"a":1}', '{"b":2}']);
    expect(pieces(reader)).toEqual([[claimed[1]!.key, 0, '2'], [claimed[1]!.key, 1, '}']]);
    await store.completeRequests('owner', claimed.map((r) => ({ key: r.key, type: 'errored' as const, result: '{"type":"errored"}' })), T0 + 1);
    expect(await store.deleteBatch('w', batch.id)).toBe('deleted');
    expect(await store.purge(100)).toBe(2);
    await store.close();
    expect(reader.prepare('SELECT count(*) FROM request_params').pluck().get()).toBe(0);
    expect(pieces(reader)).toEqual([]);
    reader.close();
  });

  it('reads large params a piece per turn after the claim, and leaves out a request deleted meanwhile', async () => {
    const path = join(dir, 'pieced-claims.sqlite');
    const T0 = 1_800_000_000_000;
    const store = new SqliteStore(path);
    const pieces = Array.from({ length: 12 }, (_, i) => (i === 0 ? '{"text":"' : i === 11 ? '"}' : 'é'.repeat(100_000)));
    await store.createBatch(
      { id: 'msgbatch_01pieced', workspaceId: 'w', createdAt: T0, expiresAt: T0 + 1e7, archiveAt: T0 + 1e8 },
      (async function* () {
        yield [{ customId: 'whole', params: pieces }, { customId: 'small', params: '{}' }];
        yield [{ customId: 'deleted', params: pieces }];
      })(),
    );
    const { value: claimed, turns } = await turnsDuring(() => {
      const claim = store.claimRequests('owner', 3, T0 + 1e6, T0);
      // The claim's transaction has committed: another connection deletes one request's row, as deleting its batch would.
      const other = new Database(path);
      other.prepare(`DELETE FROM requests WHERE custom_id = 'deleted'`).run();
      other.close();
      return claim;
    });
    expect(claimed.map((request) => [request.customId, request.params])).toEqual([
      ['whole', pieces.join('')],
      ['small', '{}'],
    ]);
    // Other work ran between the pieces: a turn for each of the 11 after the first, one before their join,
    // and one before the deleted request's first piece was found gone.
    expect(turns).toBeGreaterThanOrEqual(13);
    await store.close();
  });

  it('counts each reopen that finds a request running as a lost lease, and quarantines it on the third', async () => {
    const path = join(dir, 'reopen-quarantine.sqlite');
    const T0 = 1_800_000_000_000;
    let store = new SqliteStore(path);
    const batch = await store.createBatch(
      { id: 'msgbatch_01deadly', workspaceId: 'w', createdAt: T0, expiresAt: T0 + 1e7, archiveAt: T0 + 1e8 },
      (async function* () {
        yield [{ customId: 'deadly', params: '{}' }];
      })(),
    );
    for (let stop = 1; stop <= MAX_LEASE_LOSSES; stop++) {
      expect(await store.claimRequests(`process-${stop}`, 1, T0 + 1e6, T0)).toHaveLength(1);
      // The process stops holding the lease; the next one to open the file takes over.
      await store.close();
      store = new SqliteStore(path, { clock: { now: () => T0 + stop } });
    }
    expect(await store.claimRequests('last', 1, T0 + 1e6, T0)).toEqual([]);
    const ended = (await store.getBatch('w', batch.id))!;
    expect(ended).toMatchObject({ status: 'ended', endedAt: T0 + MAX_LEASE_LOSSES });
    expect(ended.counts).toMatchObject({ processing: 0, errored: 1 });
    await store.close();
  });
});

describe('sqlite store migrating to completion numbers', () => {
  it('numbers the requests already done in unfinished batches', async () => {
    const path = join(dir, 'legacy.sqlite');
    const legacy = new Database(path);
    legacy.exec('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)');
    for (const migration of SQLITE_MIGRATIONS.filter((m) => m.version < 3)) {
      legacy.exec(migration.sql);
      legacy.prepare('INSERT INTO schema_migrations VALUES (?, ?, 0)').run(migration.version, migration.name);
    }
    legacy.exec(`INSERT INTO batches (seq, id, workspace_id, status, processing, succeeded, created_at, expires_at, archive_at) VALUES
      (1, 'msgbatch_01RUNNING', 'w', 'in_progress', 1, 2, 0, 9e15, 9e15), (2, 'msgbatch_01ENDED', 'w', 'ended', 0, 1, 0, 9e15, 9e15)`);
    legacy.exec(`INSERT INTO requests (batch_seq, custom_id, params, state, result_type, result) VALUES
      (1, 'old-b', '{}', 'done', 'succeeded', '{"type":"succeeded"}'), (1, 'old-a', '{}', 'done', 'errored', '{"type":"errored"}'),
      (1, 'new', '{"n":1}', 'queued', NULL, NULL), (2, 'before', '{}', 'done', 'succeeded', '{"type":"succeeded"}')`);
    legacy.close();

    const store = new SqliteStore(path);
    const customIds = async (pages: AsyncIterable<{ lines: Buffer } | Buffer>) => {
      let text = '';
      for await (const page of pages) text += Buffer.isBuffer(page) ? page : page.lines;
      return text.split('\n').filter((line) => line !== '').map((line) => (JSON.parse(line) as { custom_id: string }).custom_id);
    };
    expect(await customIds(store.readCompletedResults('msgbatch_01RUNNING', 0, 10))).toEqual(['old-b', 'old-a']);
    const [request] = await store.claimRequests('owner', 1, 1000, 0);
    expect(request!.params).toBe('{"n":1}');
    await store.completeRequests('owner', [{ key: request!.key, type: 'succeeded', result: '{"type":"succeeded"}' }], 1);
    expect(await customIds(store.readCompletedResults('msgbatch_01RUNNING', 0, 10))).toEqual(['old-b', 'old-a', 'new']);
    // An ended batch has no numbers; its results are read in request order.
    expect(await customIds(store.readCompletedResults('msgbatch_01ENDED', 0, 10))).toEqual([]);
    expect(await customIds(store.readResults('msgbatch_01ENDED', 10))).toEqual(['before']);
    await store.close();
    // Params live in a table of their own; the result comes after every column but those read
    // only while a request is queued (its result NULL), so reading them never walks its overflow pages.
    const migrated = new Database(path, { readonly: true });
    const columns = migrated.prepare('SELECT name FROM pragma_table_info(?)').pluck().all('requests');
    migrated.close();
    expect(columns.slice(columns.indexOf('result') + 1)).toEqual(['prefix_key']);
    expect(columns).not.toContain('params');
  });
});
