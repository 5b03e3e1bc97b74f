import { describe, expect, it } from 'vitest';
import type { BatchStore, NewRequest } from '../../src/store/store.js';
import { HOUR, openStoreEachTest, T0 } from './contract-setup.js';
import { runUploadStoreContract } from './upload-store-contract.js';

/** The behaviour of files (their uploads' records among them) and chat batches every store implementation must show. */
export function runFileStoreContract(name: string, makeStore: () => Promise<BatchStore>): void {
  runUploadStoreContract(name, makeStore);
  describe(`${name} store: files and chat batches`, () => {
    let store: BatchStore;
    openStoreEachTest(makeStore, (opened) => (store = opened));
    let nextId = 1000;

    const fileId = () => `file-01TEST${String(nextId++).padStart(18, '0')}`;
    async function* chunks(...parts: string[]): AsyncGenerator<Buffer> {
      for (const part of parts) yield Buffer.from(part);
    }
    async function content(workspace: string, id: string): Promise<string> {
      const parts: Buffer[] = [];
      for await (const part of store.files.readFile(workspace, id)) parts.push(part);
      return Buffer.concat(parts).toString();
    }
    const upload = (workspace = 'w1', purpose = 'batch', ...parts: string[]) =>
      store.files.createFile({ id: fileId(), workspaceId: workspace, purpose, filename: 'in.jsonl', createdAt: T0 }, chunks(...(parts.length ? parts : ['{}\n'])));

    it('stores a file chunk by chunk and reads it back in the same bytes', async () => {
      const text = '{"a":"é"}\n'.repeat(3);
      const file = await upload('w1', 'batch', text.slice(0, 7), text.slice(7), '');
      expect(file).toMatchObject({ workspaceId: 'w1', purpose: 'batch', filename: 'in.jsonl', bytes: Buffer.byteLength(text), createdAt: T0 });
      expect(await store.files.getFile('w1', file.id, T0)).toEqual(file);
      expect(await content('w1', file.id)).toBe(text);
      expect(await store.files.getFile('w2', file.id, T0)).toBeNull();
      expect(await content('w2', file.id)).toBe('');
    });

    it('stores nothing when the upload fails part way', async () => {
      async function* failing(): AsyncGenerator<Buffer> {
        yield Buffer.from('{}\n');
        throw new Error('connection lost');
      }
      const id = fileId();
      await expect(store.files.createFile({ id, workspaceId: 'w1', purpose: 'batch', filename: 'x', createdAt: T0 }, failing())).rejects.toThrow('connection lost');
      expect(await store.files.getFile('w1', id, T0)).toBeNull();
      expect((await store.files.listFiles('w1', { limit: 10, order: 'desc', now: T0 })).files).toEqual([]);
    });

    it('lists files of a workspace in either order, by purpose, and pages after an id', async () => {
      const ids = [];
      for (let i = 0; i < 4; i++) ids.push((await upload('w1', i === 3 ? 'other' : 'batch')).id);
      await upload('w2');
      const desc = await store.files.listFiles('w1', { limit: 2, order: 'desc', now: T0 });
      expect(desc.files.map((f) => f.id)).toEqual([ids[3], ids[2]]);
      expect(desc.hasMore).toBe(true);
      const rest = await store.files.listFiles('w1', { limit: 2, order: 'desc', after: ids[2], now: T0 });
      expect(rest.files.map((f) => f.id)).toEqual([ids[1], ids[0]]);
      expect(rest.hasMore).toBe(false);
      const asc = await store.files.listFiles('w1', { limit: 10, order: 'asc', after: ids[0], purpose: 'batch', now: T0 });
      expect(asc.files.map((f) => f.id)).toEqual([ids[1], ids[2]]);
    });

    it('deletes a file and its content, only in its own workspace', async () => {
      const file = await upload('w1', 'batch', 'x'.repeat(100), 'y');
      expect(await store.files.deleteFile('w2', file.id)).toBe(false);
      expect(await store.files.deleteFile('w1', file.id)).toBe(true);
      expect(await store.files.getFile('w1', file.id, T0)).toBeNull();
      expect(await content('w1', file.id)).toBe('');
      expect(await store.files.deleteFile('w1', file.id)).toBe(false);
    });

    it('stops serving a file once it expires, and purges expired files with their content', async () => {
      const [kept, expiring, other] = [await upload(), await upload('w1', 'batch', 'x'.repeat(10), 'y'), await upload('w2')];
      expect(kept.expiresAt).toBeNull();
      await store.files.setFileExpiry('w1', expiring.id, T0 + HOUR);
      await store.files.setFileExpiry('w2', other.id, T0 + 2 * HOUR);
      expect(await store.files.getFile('w1', expiring.id, T0 + HOUR - 1)).toEqual({ ...expiring, expiresAt: T0 + HOUR });
      expect(await store.files.getFile('w1', expiring.id, T0 + HOUR)).toBeNull();
      const listed = async (now: number) => (await store.files.listFiles('w1', { limit: 10, order: 'asc', now })).files.map((f) => f.id);
      expect(await listed(T0)).toEqual([kept.id, expiring.id]);
      expect(await listed(T0 + HOUR)).toEqual([kept.id]);

      expect(await store.files.purgeExpired(T0 + HOUR - 1, 10)).toBe(0);
      expect(await store.files.purgeExpired(T0 + 3 * HOUR, 1)).toBe(1);
      expect(await store.files.purgeExpired(T0 + 3 * HOUR, 10)).toBe(1);
      expect(await store.files.purgeExpired(T0 + 3 * HOUR, 10)).toBe(0);
      expect(await content('w1', expiring.id)).toBe('');
      expect(await content('w2', other.id)).toBe('');
      expect(await store.files.getFile('w1', kept.id, T0 + 3 * HOUR)).toEqual(kept);
    });

    it('sums the bytes of the files a workspace has stored and not yet expired', async () => {
      expect(await store.files.storedBytes('w1', T0)).toBe(0);
      const [a, b] = [await upload('w1', 'batch', 'é'.repeat(10)), await upload('w1', 'batch', 'x'.repeat(30))];
      await upload('w2', 'batch', 'y'.repeat(50));
      expect(await store.files.storedBytes('w1', T0)).toBe(20 + 30);
      await store.files.setFileExpiry('w1', b.id, T0 + HOUR);
      expect(await store.files.storedBytes('w1', T0 + HOUR)).toBe(20);
      expect(await store.files.deleteFile('w1', a.id)).toBe(true);
      expect(await store.files.storedBytes('w1', T0)).toBe(30);
      expect(await store.files.storedBytes('w2', T0)).toBe(50);
    });

    const chatBatch = (id: string, requests: NewRequest[]) =>
      store.createBatch(
        { id, workspaceId: 'w1', createdAt: T0, expiresAt: T0 + HOUR, archiveAt: T0 + 2 * HOUR, dialect: 'chat', attributes: '{"endpoint":"/v1/embeddings"}', endpoint: '/v1/embeddings' },
        (async function* () {
          if (requests.length > 0) yield requests;
        })(),
      );

    it('keeps chat batches apart from message batches, with their dialect, endpoint and attributes', async () => {
      const chat = await chatBatch('batch_01A', [{ customId: 'a', params: '{"model":"m"}' }]);
      expect(chat).toMatchObject({ dialect: 'chat', attributes: '{"endpoint":"/v1/embeddings"}', status: 'in_progress' });
      const messages = await store.createBatch(
        { id: 'msgbatch_01B', workspaceId: 'w1', createdAt: T0, expiresAt: T0 + HOUR, archiveAt: T0 + HOUR },
        (async function* () {
          yield [{ customId: 'b', params: '{}' }];
        })(),
      );
      expect(messages).toMatchObject({ dialect: 'messages', attributes: null });
      expect((await store.listBatches('w1', { limit: 10 })).batches.map((b) => b.id)).toEqual([messages.id]);
      expect((await store.listBatches('w1', { limit: 10, dialect: 'chat' })).batches.map((b) => b.id)).toEqual([chat.id]);
      const claimed = await store.claimRequests('a', 10, T0 + 1000, T0);
      expect(claimed.map((r) => [r.customId, r.dialect, r.endpoint]).sort()).toEqual([
        ['a', 'chat', '/v1/embeddings'],
        ['b', 'messages', null],
      ]);
    });

    it('stores a batch with no requests as ended', async () => {
      const failed = await chatBatch('batch_01C', []);
      expect(failed).toMatchObject({ status: 'ended', endedAt: T0, counts: { processing: 0, succeeded: 0, errored: 0, canceled: 0, expired: 0 } });
    });

    it('adds the reasoning tokens of completions to the batch', async () => {
      const batch = await chatBatch('batch_01E', [{ customId: 'r1', params: '{}' }, { customId: 'r2', params: '{}' }]);
      expect(batch.reasoningTokens).toBe(0);
      const [first, second] = await store.claimRequests('a', 2, T0 + 1000, T0);
      const usage = { input_tokens: 5, output_tokens: 40, cache_creation_input_tokens: 0, cache_read_input_tokens: 3 };
      await store.completeRequests('a', [{ key: first!.key, type: 'succeeded', result: '{}', usage, reasoningTokens: 30 }], T0 + 1);
      await store.completeRequests('a', [{ key: second!.key, type: 'succeeded', result: '{}', usage, reasoningTokens: 7 }], T0 + 2);
      expect(await store.getBatch('w1', batch.id)).toMatchObject({ status: 'ended', reasoningTokens: 37, usage: { output_tokens: 80, cache_read_input_tokens: 6 } });
    });

    it('reads the finished requests of a batch split into succeeded and the rest', async () => {
      const requests = Array.from({ length: 5 }, (_, i) => ({ customId: `c${i}`, params: '{}' }));
      const batch = await chatBatch('batch_01D', requests);
      const claimed = await store.claimRequests('a', 3, T0 + 1000, T0);
      const [first, second, third] = claimed;
      await store.completeRequests(
        'a',
        [
          { key: first!.key, type: 'succeeded', result: '{"status_code":200}' },
          { key: second!.key, type: 'errored', result: '{"status_code":400}' },
          { key: third!.key, type: 'succeeded', result: '{"status_code":200}' },
        ],
        T0 + 1,
      );
      await store.cancelBatch('w1', batch.id, T0 + 2);
      async function rows(succeeded: boolean, pageSize: number) {
        const all = [];
        for await (const page of store.files.readResultRows(batch.id, succeeded, pageSize)) all.push(...page);
        return all.map((row) => [row.customId, row.type, row.result]);
      }
      expect(await rows(true, 1)).toEqual([
        [first!.customId, 'succeeded', '{"status_code":200}'],
        [third!.customId, 'succeeded', '{"status_code":200}'],
      ]);
      const others = await rows(false, 2);
      expect(others).toContainEqual([second!.customId, 'errored', '{"status_code":400}']);
      expect(others.filter((row) => row[1] === 'canceled')).toHaveLength(2);
      expect(others).toHaveLength(3);
    });
  });
}
