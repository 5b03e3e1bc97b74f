import { mkdtempSync, rmSync } from 'node:fs';
import { get, type IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { SqliteStore } from '../../store/sqlite/sqlite-store.js';
import type { BatchStore } from '../../store/store.js';
import { DEFAULT_WORKSPACE } from '../authenticator.js';
import { buildTestApp } from '../../../test-support/api/test-app.js';

/** The follow route over real HTTP, on an app without an engine: what happens to a follower when its reader or the server goes. */

const dir = mkdtempSync(join(tmpdir(), 'batchd-follow-route-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** An app on a fresh store holding one batch that never runs, and a count of the store's completion listeners. */
async function serve(name: string) {
  const store = new SqliteStore(join(dir, `${name}.sqlite`));
  let listeners = 0;
  const counted = new Proxy(store, {
    get(target, key) {
      if (key === 'subscribeCompletions') {
        return (listener: () => void) => {
          listeners++;
          const unsubscribe = target.subscribeCompletions(listener);
          return () => {
            listeners--;
            unsubscribe();
          };
        };
      }
      const value: unknown = Reflect.get(target, key);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  }) as BatchStore;
  const now = Date.now();
  const batch = await store.createBatch(
    { id: `msgbatch_01ROUTE${name}`, workspaceId: DEFAULT_WORKSPACE, createdAt: now, expiresAt: now + 3_600_000, archiveAt: now + 7_200_000 },
    (async function* () {
      yield [{ customId: 'waiting', params: '{}' }];
    })(),
  );
  const app = buildTestApp(counted);
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  const path = `/v1/messages/batches/${batch.id}/results?partial=true&follow=true`;
  const follow = () => fetch(`${url}${path}`, { headers: { 'x-api-key': 'k' } });
  return { app, store, url, path, follow, listeners: () => listeners };
}

describe('the follow route', () => {
  it('stops following when the reader goes away', async () => {
    const { app, store, url, path, listeners } = await serve('gone');
    // A plain HTTP request, whose connection closes with it.
    const response = await new Promise<IncomingMessage>((resolve, reject) => get(`${url}${path}`, { headers: { 'x-api-key': 'k' } }, resolve).on('error', reject));
    expect(response.statusCode).toBe(200);
    expect(listeners()).toBe(1);
    response.destroy();
    await vi.waitFor(() => expect(listeners()).toBe(0));
    await app.close();
    await store.close();
  });

  it('cuts open follow streams when the server closes, which then does not wait for them', async () => {
    const { app, store, follow, listeners } = await serve('closing');
    const responses = await Promise.all([follow(), follow()]);
    const bodies = responses.map((response) => response.text().then(() => 'ended as if complete', () => 'cut'));
    // The streams of one node share one subscription to the store's completions.
    expect(listeners()).toBe(1);
    await app.close();
    expect(await Promise.all(bodies)).toEqual(['cut', 'cut']);
    expect(listeners()).toBe(0);
    await store.close();
  });
});
