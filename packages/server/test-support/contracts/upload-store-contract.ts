import { describe, expect, it } from 'vitest';
import type { BatchStore } from '../../src/store/store.js';
import { UPLOAD_PART_PURPOSE, type UploadRecord } from '../../src/store/upload-store.js';
import { HOUR, openStoreEachTest, T0 } from './contract-setup.js';

/** The behaviour of upload records every store implementation must show. */
export function runUploadStoreContract(name: string, makeStore: () => Promise<BatchStore>): void {
  describe(`${name} store: uploads`, () => {
    let store: BatchStore;
    openStoreEachTest(makeStore, (opened) => (store = opened));

    const record = (id: string, fields: Partial<UploadRecord> = {}): UploadRecord => ({
      id,
      workspaceId: 'w1',
      filename: 'big.jsonl',
      purpose: 'batch',
      mimeType: 'application/jsonl',
      bytes: 2 ** 40,
      createdAt: T0,
      expiresAt: T0 + HOUR,
      fileExpiresAfter: null,
      status: 'pending',
      fileId: null,
      ...fields,
    });

    it('keeps an upload as created, in its workspace only', async () => {
      const upload = record('upload_a', { fileExpiresAfter: 7200 });
      await store.files.uploads.createUpload(upload);
      expect(await store.files.uploads.getUpload('w1', 'upload_a')).toEqual(upload);
      expect(await store.files.uploads.getUpload('w2', 'upload_a')).toBeNull();
      expect(await store.files.uploads.getUpload('w1', 'upload_b')).toBeNull();
    });

    it('ends a pending upload once, completed with its file or cancelled', async () => {
      await store.files.uploads.createUpload(record('upload_c'));
      await store.files.uploads.createUpload(record('upload_d'));
      expect(await store.files.uploads.endUpload('w2', 'upload_c', 'completed', 'file-1')).toBe(false);
      expect(await store.files.uploads.endUpload('w1', 'upload_c', 'completed', 'file-1')).toBe(true);
      expect(await store.files.uploads.endUpload('w1', 'upload_c', 'cancelled', null)).toBe(false);
      expect(await store.files.uploads.getUpload('w1', 'upload_c')).toMatchObject({ status: 'completed', fileId: 'file-1' });
      expect(await store.files.uploads.endUpload('w1', 'upload_d', 'cancelled', null)).toBe(true);
      expect(await store.files.uploads.endUpload('w1', 'upload_d', 'completed', 'file-2')).toBe(false);
      expect(await store.files.uploads.getUpload('w1', 'upload_d')).toMatchObject({ status: 'cancelled', fileId: null });
    });

    it("finds an upload's stored parts, in its workspace only", async () => {
      const file = async (id: string, workspaceId: string, purpose: string, filename: string) => {
        async function* bytes(): AsyncGenerator<Buffer> {
          yield Buffer.from('{}\n');
        }
        await store.files.createFile({ id, workspaceId, purpose, filename, createdAt: T0, expiresAt: T0 + HOUR }, bytes());
      };
      await file('part_1', 'w1', UPLOAD_PART_PURPOSE, 'upload_h');
      await file('part_2', 'w1', UPLOAD_PART_PURPOSE, 'upload_h');
      await file('part_3', 'w1', UPLOAD_PART_PURPOSE, 'upload_i');
      await file('part_4', 'w2', UPLOAD_PART_PURPOSE, 'upload_h');
      await file('file-5', 'w1', 'batch', 'upload_h');
      expect((await store.files.uploads.partIds('w1', 'upload_h')).sort()).toEqual(['part_1', 'part_2']);
      expect(await store.files.uploads.partIds('w2', 'upload_h')).toEqual(['part_4']);
      expect(await store.files.uploads.partIds('w1', 'upload_none')).toEqual([]);
      expect(await store.files.getFile('w1', 'part_1', T0)).toMatchObject({ expiresAt: T0 + HOUR });
    });

    it('purges the records of uploads expired before a time, up to a limit', async () => {
      for (const [id, expiresAt] of [['upload_e', T0 + HOUR], ['upload_f', T0 + HOUR], ['upload_g', T0 + 3 * HOUR]] as const) await store.files.uploads.createUpload(record(id, { expiresAt }));
      expect(await store.files.uploads.purgeUploads(T0 + HOUR, 10)).toBe(0);
      expect(await store.files.uploads.purgeUploads(T0 + 2 * HOUR, 1)).toBe(1);
      expect(await store.files.uploads.purgeUploads(T0 + 2 * HOUR, 10)).toBe(1);
      expect(await store.files.uploads.getUpload('w1', 'upload_g')).not.toBeNull();
    });
  });
}
