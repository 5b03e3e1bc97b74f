import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { SqliteStore } from '../../store/sqlite/sqlite-store.js';
import type { BatchStore, Completion } from '../../store/store.js';
import { SharedFollowReads } from '../shared-follow-reads.js';
import { resultsSoFar, type FollowOptions } from './results-so-far.js';

const dir = mkdtempSync(join(tmpdir(), 'batchd-follower-'));
let files = 0;
const stores: SqliteStore[] = [];
afterEach(async () => {
  for (const store of stores.splice(0)) await store.close();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const T0 = 1_800_000_000_000;
const ok = (key: number): Completion => ({ key, type: 'succeeded', result: '{"type":"succeeded"}' });

/** A store on a fresh file with one batch of `count` requests, all leased to `a`. */
async function batchOf(count: number, path = join(dir, `follow-${files++}.sqlite`)) {
  const store = new SqliteStore(path);
  stores.push(store);
  const batch = await store.createBatch(
    { id: `msgbatch_01FOLLOW${files}`, workspaceId: 'w', createdAt: T0, expiresAt: T0 + 3_600_000, archiveAt: T0 + 7_200_000 },
    (async function* () {
      yield Array.from({ length: count }, (_, i) => ({ customId: `r${i}`, params: '{}' }));
    })(),
  );
  const keys = (await store.claimRequests('a', count, T0 + 3_600_000, T0)).map((r) => r.key);
  return { store, path, batch, keys };
}

function follow(store: BatchStore, batchId: string, options: Partial<FollowOptions> = {}) {
  const shared = new SharedFollowReads(store, 0);
  return resultsSoFar(store, 'w', batchId, { pageSize: 2, follow: true, signal: new AbortController().signal, pollMs: 60_000, shared, ...options });
}

async function customIds(lines: AsyncIterable<Buffer>): Promise<string[]> {
  let text = '';
  for await (const chunk of lines) text += chunk;
  return text.split('\n').filter((line) => line !== '').map((line) => (JSON.parse(line) as { custom_id: string }).custom_id);
}

/** `store`, with `onRead` run after each complete read of results (before the follower looks at the batch again). */
function afterEachRead(store: BatchStore, onRead: () => Promise<void>): BatchStore {
  return new Proxy(store, {
    get(target, name) {
      if (name === 'readCompletedResults') {
        return async function* (...args: Parameters<BatchStore['readCompletedResults']>) {
          yield* target.readCompletedResults(...args);
          await onRead();
        };
      }
      const value: unknown = Reflect.get(target, name);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

describe('resultsSoFar', () => {
  it('without follow, streams the results written so far and stops', async () => {
    const { store, batch, keys } = await batchOf(4);
    await store.completeRequests('a', [ok(keys[2]!), ok(keys[0]!)], T0 + 1);
    await store.completeRequests('a', [ok(keys[3]!)], T0 + 2);
    expect(await customIds(follow(store, batch.id, { follow: false }))).toEqual(['r2', 'r0', 'r3']);
  });

  it('follows each result once, in the order written, until the batch has ended', async () => {
    const { store, batch, keys } = await batchOf(5);
    await store.completeRequests('a', [ok(keys[4]!)], T0 + 1);
    let step = 0;
    // Each read lets one more group of results land before the follower looks again.
    const groups = [[keys[1]!, keys[0]!], [], [keys[3]!], [keys[2]!]];
    const stepping = afterEachRead(store, async () => {
      const group = groups[step++];
      if (group) await store.completeRequests('a', group.map(ok), T0 + 2 + step);
    });
    expect(await customIds(follow(stepping, batch.id))).toEqual(['r4', 'r1', 'r0', 'r3', 'r2']);
  });

  it('reads the results that land between its read and its look at the batch ending', async () => {
    const { store, batch, keys } = await batchOf(3);
    await store.completeRequests('a', [ok(keys[0]!)], T0 + 1);
    let raced = false;
    const racing = afterEachRead(store, async () => {
      if (raced) return;
      raced = true;
      await store.completeRequests('a', [ok(keys[1]!), ok(keys[2]!)], T0 + 2);
    });
    expect(await customIds(follow(racing, batch.id))).toEqual(['r0', 'r1', 'r2']);
  });

  it('finds results written by another process by polling', async () => {
    const { store, path, batch, keys } = await batchOf(2);
    // A second store on the file writes without signalling the first, like a worker process.
    const other = new SqliteStore(path, { takeOver: false });
    stores.push(other);
    let reads = 0;
    const polled = afterEachRead(store, async () => {
      if (++reads === 2) await other.completeRequests('a', keys.map(ok), T0 + 1);
    });
    expect(await customIds(follow(polled, batch.id, { pollMs: 5 }))).toEqual(['r0', 'r1']);
  });

  it('stops waiting when aborted and stops listening', async () => {
    const { store, batch } = await batchOf(1);
    let listeners = 0;
    const counting = new Proxy(store, {
      get(target, name) {
        if (name === 'subscribeCompletions') {
          return (listener: () => void) => {
            listeners++;
            const unsubscribe = target.subscribeCompletions(listener);
            return () => {
              listeners--;
              return unsubscribe();
            };
          };
        }
        const value: unknown = Reflect.get(target, name);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const controller = new AbortController();
    const lines = follow(counting, batch.id, { signal: controller.signal });
    const next = lines.next();
    await new Promise((resolve) => setImmediate(resolve));
    expect(listeners).toBe(1);
    controller.abort();
    expect(await next).toEqual({ done: true, value: undefined });
    expect(listeners).toBe(0);
  });

  it('shares its reads with the other followers of the batch', async () => {
    /** Store reads made by `followers` following a batch of 6 that ends in three writes. */
    async function readsFor(followers: number) {
      const { store, batch, keys } = await batchOf(6);
      const calls = { getBatch: 0, readCompletedResults: 0 };
      const counting = new Proxy(store, {
        get(target, name) {
          const value: unknown = Reflect.get(target, name);
          if (typeof value !== 'function') return value;
          if (name === 'getBatch' || name === 'readCompletedResults') {
            return (...args: unknown[]) => {
              calls[name] += 1;
              return (value as (...a: unknown[]) => unknown).apply(target, args);
            };
          }
          return value.bind(target);
        },
      });
      const shared = new SharedFollowReads(counting, 0);
      const signal = new AbortController().signal;
      const all = Array.from({ length: followers }, () => customIds(resultsSoFar(counting, 'w', batch.id, { pageSize: 2, follow: true, signal, pollMs: 60_000, shared })));
      for (const group of [[0, 1, 2], [3], [4, 5]]) {
        await new Promise((resolve) => setTimeout(resolve, 5));
        await store.completeRequests('a', group.map((i) => ok(keys[i]!)), T0 + 1);
      }
      for (const ids of await Promise.all(all)) expect(ids).toEqual(['r0', 'r1', 'r2', 'r3', 'r4', 'r5']);
      return calls;
    }
    const one = await readsFor(1);
    const many = await readsFor(20);
    expect(many.getBatch).toBe(one.getBatch);
    // The last pages, read after the read that saw the batch end, are shared too.
    expect(many.readCompletedResults).toBe(one.readCompletedResults);
  });
});
