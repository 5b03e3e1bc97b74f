import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runFileStoreContract } from '../test-support/file-store-contract.js';
import { runStoreContract } from '../test-support/store-contract.js';
import { SqliteStore } from './sqlite-store.js';

const dir = mkdtempSync(join(tmpdir(), 'batchd-sqlite-'));
let files = 0;
afterAll(() => rmSync(dir, { recursive: true, force: true }));

runStoreContract('sqlite', async () => new SqliteStore(join(dir, `store-${files++}.sqlite`)));
runFileStoreContract('sqlite', async () => new SqliteStore(join(dir, `store-${files++}.sqlite`)));

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
  });
});
