import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { buildTestApp } from '../../test-support/api/test-app.js';
import { SqliteStore } from '../store/sqlite/sqlite-store.js';
import type { BatchStore, ResultsFile } from '../store/store.js';
import { DEFAULT_WORKSPACE } from './authenticator.js';

/**
 * An ended batch served from its results file over real HTTP: the body goes with its
 * content-length; a batch deleted while it streams ends in an interrupted body; a reader that
 * stops reading stops the reads of the file, and one that goes closes it.
 */

const dir = mkdtempSync(join(tmpdir(), 'batchd-results-file-body-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let opened = 0;

/** A SQLite store holding one ended batch of `requests` results of about `resultBytes` each, written to its results file. */
async function filedBatch(id: string, requests: number, resultBytes: number): Promise<SqliteStore> {
  const store = new SqliteStore(join(dir, `store-${opened++}.sqlite`), { resultsFileMinRequests: 1 });
  const now = Date.now();
  await store.createBatch(
    { id, workspaceId: DEFAULT_WORKSPACE, createdAt: now, expiresAt: now + 3_600_000, archiveAt: now + 7_200_000 },
    (async function* () {
      yield Array.from({ length: requests }, (_, i) => ({ customId: `r${i}`, params: '{}' }));
    })(),
  );
  const claimed = await store.claimRequests('owner', requests, now + 60_000, now);
  const text = 'x'.repeat(resultBytes);
  await store.completeRequests('owner', claimed.map((request) => ({ key: request.key, type: 'succeeded', result: `{"type":"succeeded","message":{"n":${request.key},"text":"${text}"}}` })), now);
  expect(await store.fileResults(10, (batchId, error) => expect.fail(`${batchId}: ${String(error)}`))).toBe(1);
  return store;
}

/** The store, with `onRead` told of each read of a results file (and the number of reads so far) and `onClose` of its close. */
function watched(store: BatchStore, onRead: (reads: number) => Promise<void>, onClose: () => void = () => undefined): BatchStore {
  return new Proxy(store, {
    get(target, key) {
      if (key === 'openResultsFile') {
        return async (batchId: string): Promise<ResultsFile | null> => {
          const file = await target.openResultsFile!(batchId);
          if (!file) return null;
          let reads = 0;
          return {
            size: file.size,
            read: async (into) => {
              const bytes = await file.read(into);
              await onRead(++reads);
              return bytes;
            },
            close: async () => {
              onClose();
              await file.close();
            },
          };
        };
      }
      const value: unknown = Reflect.get(target, key);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

async function until(what: string, condition: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !condition(); i++) await delay(20);
  if (!condition()) expect.fail(`${what} did not happen`);
}

describe('results served from a results file', () => {
  it('go with their content-length, the same bytes as the database holds', async () => {
    const store = await filedBatch('msgbatch_01FILED', 300, 8_000);
    const fromDatabase: Buffer[] = [];
    for await (const page of store.readResults('msgbatch_01FILED', 1000)) fromDatabase.push(Buffer.from(page));
    const app = buildTestApp(store);
    try {
      const url = await app.listen({ host: '127.0.0.1', port: 0 });
      const response = await fetch(`${url}/v1/messages/batches/msgbatch_01FILED/results`, { headers: { 'x-api-key': 'k' } });
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe('application/x-jsonl');
      expect(response.headers.get('transfer-encoding')).toBeNull();
      const body = Buffer.from(await response.arrayBuffer());
      expect(Number(response.headers.get('content-length'))).toBe(body.length);
      expect(body.length).toBeGreaterThan(2 * 1024 * 1024);
      expect(body.equals(Buffer.concat(fromDatabase))).toBe(true);
    } finally {
      await app.close();
      await store.close();
    }
  });

  it('answer a HEAD with their length without reading the file', async () => {
    const store = await filedBatch('msgbatch_01HEAD', 300, 8_000);
    let reads = 0;
    const app = buildTestApp(watched(store, async (count) => void (reads = count)));
    try {
      const url = await app.listen({ host: '127.0.0.1', port: 0 });
      const response = await fetch(`${url}/v1/messages/batches/msgbatch_01HEAD/results`, { method: 'HEAD', headers: { 'x-api-key': 'k' } });
      expect(response.status).toBe(200);
      expect(Number(response.headers.get('content-length'))).toBeGreaterThan(2 * 1024 * 1024);
      expect(reads).toBe(0);
    } finally {
      await app.close();
      await store.close();
    }
  });

  it('end in an interrupted body when the batch is deleted while they stream', async () => {
    const store = await filedBatch('msgbatch_01GONE', 300, 8_000);
    const app = buildTestApp(
      watched(store, async (reads) => {
        if (reads !== 1) return;
        expect(await store.deleteBatch(DEFAULT_WORKSPACE, 'msgbatch_01GONE')).toBe('deleted');
        while ((await store.purge(10_000)) > 0);
      }),
    );
    try {
      const url = await app.listen({ host: '127.0.0.1', port: 0 });
      const cut = await fetch(`${url}/v1/messages/batches/msgbatch_01GONE/results`, { headers: { 'x-api-key': 'k' } });
      expect(cut.status).toBe(200);
      await expect(cut.arrayBuffer()).rejects.toThrow();
      expect(await store.getBatch(DEFAULT_WORKSPACE, 'msgbatch_01GONE')).toBeNull();
    } finally {
      await app.close();
      await store.close();
    }
  });

  it('stop reading the file while the reader does not read, and close it when the reader goes', async () => {
    // 48 MB of results: far more than the socket buffers of loopback hold.
    const store = await filedBatch('msgbatch_01SLOW', 1200, 40_000);
    let reads = 0;
    let closed = false;
    const app = buildTestApp(
      watched(
        store,
        async (count) => {
          reads = count;
        },
        () => (closed = true),
      ),
    );
    try {
      const url = new URL(await app.listen({ host: '127.0.0.1', port: 0 }));
      const socket = connect(Number(url.port), url.hostname);
      socket.write('GET /v1/messages/batches/msgbatch_01SLOW/results HTTP/1.1\r\nhost: localhost\r\nx-api-key: k\r\n\r\n');
      socket.pause();
      // Wait until the reads stand still: the socket's buffers are full.
      let seen = -1;
      while (reads !== seen || reads === 0) {
        seen = reads;
        await delay(300);
      }
      expect(reads).toBeLessThan(24);
      expect(closed).toBe(false);
      socket.destroy();
      await until('the file to close', () => closed);
      // A write the kernel took as the connection went may let one more chunk be read.
      expect(reads).toBeLessThanOrEqual(seen + 1);
    } finally {
      await app.close();
      await store.close();
    }
  });
});
