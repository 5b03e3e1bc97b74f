import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { SqliteStore } from './sqlite-store.js';

const dir = mkdtempSync(join(tmpdir(), 'batchd-results-files-'));
let stores = 0;
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const T0 = 1_800_000_000_000;

function openStore(minRequests = 3): { store: SqliteStore; path: string } {
  const path = join(dir, `store-${stores++}.sqlite`);
  return { store: new SqliteStore(path, { resultsFileMinRequests: minRequests }), path };
}

/** Creates a batch of `count` requests and ends each: every third errored, the others succeeded. */
async function endedBatch(store: SqliteStore, id: string, count: number): Promise<void> {
  await store.createBatch(
    { id, workspaceId: 'w', createdAt: T0, expiresAt: T0 + 1e7, archiveAt: T0 + 1e8 },
    (async function* () {
      yield Array.from({ length: count }, (_, i) => ({ customId: `${id}-${i}`, params: '{}' }));
    })(),
  );
  const claimed = await store.claimRequests('owner', count, T0 + 1000, T0);
  await store.completeRequests(
    'owner',
    claimed.map((request, i) =>
      i % 3 === 2
        ? { key: request.key, type: 'errored', result: '{"type":"errored","error":{"type":"error","error":{"type":"api_error","message":"boom"}}}' }
        : { key: request.key, type: 'succeeded', result: `{"type":"succeeded","message":{"id":"msg_${i}","text":"ünïcode ${'x'.repeat(i * 7)}"}}` },
    ),
    T0 + 5,
  );
  expect((await store.getBatch('w', id))!.status).toBe('ended');
}

async function resultsText(store: SqliteStore, id: string, pageSize = 2): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of store.readResults(id, pageSize)) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
}

function failuresOf(): { failures: string[]; onFailure: (batchId: string) => void } {
  const failures: string[] = [];
  return { failures, onFailure: (batchId) => failures.push(batchId) };
}

describe('results files of a SQLite store', () => {
  it('writes an ended batch\'s results once and serves them from the file, byte for byte as from the database', async () => {
    const { store, path } = openStore();
    await endedBatch(store, 'msgbatch_01large', 7);
    const fromDatabase = await resultsText(store, 'msgbatch_01large');
    expect(fromDatabase.split('\n').filter(Boolean)).toHaveLength(7);

    const { failures, onFailure } = failuresOf();
    expect(await store.fileResults(10, onFailure)).toBe(1);
    expect(failures).toEqual([]);
    const file = join(`${path}.results`, 'msgbatch_01large.jsonl');
    expect(readFileSync(file, 'utf8')).toBe(fromDatabase);
    expect(await resultsText(store, 'msgbatch_01large')).toBe(fromDatabase);
    // Looked at once: the next round has nothing to do.
    expect(await store.fileResults(10, onFailure)).toBe(0);

    // What is served comes from the file now, not from the rows.
    writeFileSync(file, '{"custom_id":"from-the-file"}\n');
    expect(await resultsText(store, 'msgbatch_01large')).toBe('{"custom_id":"from-the-file"}\n');
    await store.close();
  });

  it('leaves batches under the size and running batches to the database', async () => {
    const { store, path } = openStore();
    await endedBatch(store, 'msgbatch_01small', 2);
    await store.createBatch(
      { id: 'msgbatch_01running', workspaceId: 'w', createdAt: T0, expiresAt: T0 + 1e7, archiveAt: T0 + 1e8 },
      (async function* () {
        yield Array.from({ length: 5 }, (_, i) => ({ customId: `r-${i}`, params: '{}' }));
      })(),
    );
    const { onFailure } = failuresOf();
    expect(await store.fileResults(10, onFailure)).toBe(1);
    expect(existsSync(join(`${path}.results`, 'msgbatch_01small.jsonl'))).toBe(false);
    expect(existsSync(join(`${path}.results`, 'msgbatch_01running.jsonl'))).toBe(false);
    expect((await resultsText(store, 'msgbatch_01small')).split('\n').filter(Boolean)).toHaveLength(2);
    await store.close();
  });

  it('removes the file when the batch is deleted and purged', async () => {
    const { store, path } = openStore();
    await endedBatch(store, 'msgbatch_01deleted', 4);
    const { onFailure } = failuresOf();
    await store.fileResults(10, onFailure);
    const file = join(`${path}.results`, 'msgbatch_01deleted.jsonl');
    expect(existsSync(file)).toBe(true);
    expect(await store.deleteBatch('w', 'msgbatch_01deleted')).toBe('deleted');
    await store.purge(100);
    expect(existsSync(file)).toBe(false);
    await store.close();
  });

  it('discards half-written files on reopen and writes the file again', async () => {
    const { store, path } = openStore();
    await endedBatch(store, 'msgbatch_01crashed', 5);
    const expected = await resultsText(store, 'msgbatch_01crashed');
    await store.close();
    // A process killed while writing leaves the temporary file and the batch not marked.
    mkdirSync(`${path}.results`);
    const partial = join(`${path}.results`, 'msgbatch_01crashed.jsonl.tmp');
    writeFileSync(partial, expected.slice(0, 40));

    const reopened = new SqliteStore(path, { resultsFileMinRequests: 3 });
    expect(existsSync(partial)).toBe(false);
    expect(await resultsText(reopened, 'msgbatch_01crashed')).toBe(expected);
    const { onFailure } = failuresOf();
    expect(await reopened.fileResults(10, onFailure)).toBe(1);
    expect(readFileSync(join(`${path}.results`, 'msgbatch_01crashed.jsonl'), 'utf8')).toBe(expected);
    await reopened.close();
  });

  it('removes on reopen the file of a batch purged, or archived, when the process stopped before removing it', async () => {
    const { store, path } = openStore();
    for (const id of ['msgbatch_01kept', 'msgbatch_01purged', 'msgbatch_01archived']) await endedBatch(store, id, 3);
    const { onFailure } = failuresOf();
    expect(await store.fileResults(10, onFailure)).toBe(3);
    const fileOf = (id: string) => join(`${path}.results`, `${id}.jsonl`);
    const contents = readFileSync(fileOf('msgbatch_01purged'));
    expect(await store.deleteBatch('w', 'msgbatch_01purged')).toBe('deleted');
    await store.purge(100);
    await store.close();
    // The stop came after the rows were purged, before the file was removed.
    writeFileSync(fileOf('msgbatch_01purged'), contents);
    const archived = new Database(path);
    archived.prepare("UPDATE batches SET archived_at = ? WHERE id = 'msgbatch_01archived'").run(T0 + 1e8);
    archived.close();

    const reopened = new SqliteStore(path, { resultsFileMinRequests: 3 });
    expect(existsSync(fileOf('msgbatch_01purged'))).toBe(false);
    expect(existsSync(fileOf('msgbatch_01archived'))).toBe(false);
    expect(existsSync(fileOf('msgbatch_01kept'))).toBe(true);
    expect((await resultsText(reopened, 'msgbatch_01kept')).split('\n').filter(Boolean)).toHaveLength(3);
    await reopened.close();
  });

  it('writes no file that would take the disk space kept for running batches', async () => {
    const path = join(dir, `store-${stores++}.sqlite`);
    // More kept free than any disk has: the file is not written, the batch stays served from the database.
    const store = new SqliteStore(path, { resultsFileMinRequests: 3, minFreeDiskBytes: Number.MAX_SAFE_INTEGER });
    await endedBatch(store, 'msgbatch_01nospace', 6);
    const expected = await resultsText(store, 'msgbatch_01nospace');
    const failed: unknown[] = [];
    expect(await store.fileResults(10, (_id, error) => failed.push(error))).toBe(1);
    expect(failed).toEqual([expect.objectContaining({ message: expect.stringContaining('--min-free-disk-mb') })]);
    expect(existsSync(join(`${path}.results`, 'msgbatch_01nospace.jsonl'))).toBe(false);
    expect(readdirSync(`${path}.results`)).toEqual([]);
    expect(await store.openResultsFile('msgbatch_01nospace')).toBeNull();
    expect(await resultsText(store, 'msgbatch_01nospace')).toBe(expected);
    await store.close();
  });

  it('keeps serving from the database when a file cannot be written', async () => {
    const { store, path } = openStore();
    await endedBatch(store, 'msgbatch_01unwritable', 6);
    const expected = await resultsText(store, 'msgbatch_01unwritable');
    // The results directory's name is taken by a file: nothing can be written under it.
    writeFileSync(`${path}.results`, 'not a directory');
    const { failures, onFailure } = failuresOf();
    expect(await store.fileResults(10, onFailure)).toBe(1);
    expect(failures).toEqual(['msgbatch_01unwritable']);
    expect(await resultsText(store, 'msgbatch_01unwritable')).toBe(expected);
    await store.close();
  });
});
