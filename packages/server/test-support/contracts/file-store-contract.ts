import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { BatchStore, NewRequest } from '../../src/store/store.js';

/** The behaviour of files and chat batches every store implementation must show. */
export function runFileStoreContract(name: string, makeStore: () => Promise<BatchStore>): void {
  describe(`${name} store: files and chat batches`, () => {
    let store: BatchStore;
    let nextId = 1000;
    const T0 = 1_800_000_000_000;
    const HOUR = 3_600_000;

    beforeEach(async () => {
      store = await makeStore();
    });
    afterEach(async () => {
      await store.close();
    });

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
      expect(await store.files.getFile('w1', file.id)).toEqual(file);
      expect(await content('w1', file.id)).toBe(text);
      expect(await store.files.getFile('w2', file.id)).toBeNull();
      expect(await content('w2', file.id)).toBe('');
    });

    it('stores nothing when the upload fails part way', async () => {
      async function* failing(): AsyncGenerator<Buffer> {
        yield Buffer.from('{}\n');
        throw new Error('connection lost');
      }
      const id = fileId();
      await expect(store.files.createFile({ id, workspaceId: 'w1', purpose: 'batch', filename: 'x', createdAt: T0 }, failing())).rejects.toThrow('connection lost');
      expect(await store.files.getFile('w1', id)).toBeNull();
      expect((await store.files.listFiles('w1', { limit: 10, order: 'desc' })).files).toEqual([]);
    });

    it('lists files of a workspace in either order, by purpose, and pages after an id', async () => {
      const ids = [];
      for (let i = 0; i < 4; i++) ids.push((await upload('w1', i === 3 ? 'other' : 'batch')).id);
      await upload('w2');
      const desc = await store.files.listFiles('w1', { limit: 2, order: 'desc' });
      expect(desc.files.map((f) => f.id)).toEqual([ids[3], ids[2]]);
      expect(desc.hasMore).toBe(true);
      const rest = await store.files.listFiles('w1', { limit: 2, order: 'desc', after: ids[2] });
      expect(rest.files.map((f) => f.id)).toEqual([ids[1], ids[0]]);
      expect(rest.hasMore).toBe(false);
      const asc = await store.files.listFiles('w1', { limit: 10, order: 'asc', after: ids[0], purpose: 'batch' });
      expect(asc.files.map((f) => f.id)).toEqual([ids[1], ids[2]]);
    });

    it('deletes a file and its content, only in its own workspace', async () => {
      const file = await upload('w1', 'batch', 'x'.repeat(100), 'y');
      expect(await store.files.deleteFile('w2', file.id)).toBe(false);
      expect(await store.files.deleteFile('w1', file.id)).toBe(true);
      expect(await store.files.getFile('w1', file.id)).toBeNull();
      expect(await content('w1', file.id)).toBe('');
      expect(await store.files.deleteFile('w1', file.id)).toBe(false);
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
