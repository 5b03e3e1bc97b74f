import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyRequest } from 'fastify';
import { afterAll, describe, expect, it } from 'vitest';
import { hashApiKey, type ApiKeyStore } from '../store/api-key-store.js';
import { SqliteStore } from '../store/sqlite/sqlite-store.js';
import { Authenticator } from './authenticator.js';

const dir = mkdtempSync(join(tmpdir(), 'batchd-auth-'));
const store = new SqliteStore(join(dir, 'db.sqlite'));
afterAll(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

/** The store's keys, counting the lookups. */
function counted(keys: ApiKeyStore) {
  const lookups: string[] = [];
  const counting: ApiKeyStore = { ...keys, find: (hash) => (lookups.push(hash), keys.find(hash)) };
  return { counting, lookups };
}

const request = (key: string) => ({ headers: { 'x-api-key': key } }) as unknown as FastifyRequest;

describe('Authenticator', () => {
  it('keeps a valid key remembered while a client sprays thousands of keys that open nothing', async () => {
    const key = 'bk_valid-key';
    await store.apiKeys.create({ id: 'key_1', workspaceId: 'w', hash: hashApiKey(key), prefix: 'bk_valid', createdAt: Date.now() });
    const { counting, lookups } = counted(store.apiKeys);
    // The clock stands still: however long the spray takes, the valid key's lookup stays within the cache time.
    const auth = new Authenticator('keys', counting, () => 0);
    expect(await auth.identify(request(key))).toEqual({ workspace: 'w', caller: 'key_1' });

    for (let i = 0; i < 20_000; i++) await expect(auth.identify(request(`bk_guess-${i}`))).rejects.toMatchObject({ status: 401 });
    // A guess asked again within the cache time is refused without a lookup.
    await expect(auth.identify(request('bk_guess-19999'))).rejects.toMatchObject({ status: 401 });
    expect(lookups).toHaveLength(1 + 20_000);

    expect(await auth.identify(request(key))).toEqual({ workspace: 'w', caller: 'key_1' });
    expect(lookups.filter((hash) => hash === hashApiKey(key))).toHaveLength(1);
  });

  it('stops opening a revoked key once its lookup is older than the cache time', async () => {
    const key = 'bk_revoked-key';
    await store.apiKeys.create({ id: 'key_2', workspaceId: 'w', hash: hashApiKey(key), prefix: 'bk_revok', createdAt: Date.now() });
    let now = 0;
    const auth = new Authenticator('keys', store.apiKeys, () => now);
    expect((await auth.identify(request(key))).caller).toBe('key_2');
    await store.apiKeys.revoke('key_2', Date.now());
    expect((await auth.identify(request(key))).caller).toBe('key_2');
    now += 5_001;
    await expect(auth.identify(request(key))).rejects.toMatchObject({ status: 401 });
  });
});
