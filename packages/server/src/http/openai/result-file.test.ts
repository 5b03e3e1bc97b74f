import { describe, expect, it } from 'vitest';
import { freshStores, type StoreKind } from '../../../test-support/stores/fresh-stores.js';
import type { FileStore } from '../../store/file-store.js';
import { resultFileBytes, resultFileContent, resultFileLine } from './result-file.js';

/** The size of a chat batch's output and error files, from the sizes the database keeps, against their content. */

const stores = freshStores('batchd-result-file-');

const T0 = 1_800_000_000_000;
/** custom_ids whose JSON form needs escapes, multi-byte characters, or nothing. */
const CUSTOM_IDS = ['plain', 'quote"d', 'back\\slash', 'tab\tnew\nline\u0001\u001f\b', 'ünïcode ✓ 🎉', 'x'.repeat(300), 'ran-a', 'ran-b', 'never-1', 'never-2'];

async function contentBytes(files: FileStore, batchId: string, part: 'output' | 'errors'): Promise<number> {
  let bytes = 0;
  for await (const page of resultFileContent(files, batchId, part)) bytes += page.length;
  return bytes;
}

/** The file store, refusing to read result rows. */
function withoutRowReads(files: FileStore): FileStore {
  return new Proxy(files, {
    get(target, key) {
      if (key === 'readResultRows') throw new Error('result rows were read');
      const value: unknown = Reflect.get(target, key);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

describe.each<StoreKind>(['SQLite', 'PostgreSQL'])('result file sizes on %s', (kind) => {
  it.skipIf(stores.skipped(kind))('equal the bytes served, counted without reading a result', async () => {
    const store = await stores.open(kind);
    try {
      const id = 'batch_01SIZES';
      await store.createBatch(
        { id, workspaceId: 'w', createdAt: T0, expiresAt: T0 + 1e7, archiveAt: T0 + 1e8, dialect: 'chat', attributes: '{}' },
        (async function* () {
          yield CUSTOM_IDS.map((customId) => ({ customId, params: '{}' }));
        })(),
      );
      const claimed = await store.claimRequests('owner', CUSTOM_IDS.length - 2, T0 + 1000, T0);
      await store.completeRequests(
        'owner',
        claimed.map((request, i) => ({
          key: request.key,
          type: i % 3 === 2 ? 'errored' : 'succeeded',
          result: `{"status_code":${i % 3 === 2 ? 400 : 200},"request_id":"r${i}","body":{"text":"ünï ${'y'.repeat(i * 40)} ✓"}}`,
        })),
        T0 + 5,
      );
      expect((await store.cancelBatch('w', id, T0 + 10)).kind).toBe('ok');
      expect((await store.getBatch('w', id))!.status).toBe('ended');

      for (const part of ['output', 'errors'] as const) {
        const served = await contentBytes(store.files, id, part);
        expect(served).toBeGreaterThan(0);
        expect(await resultFileBytes(withoutRowReads(store.files), id, part), part).toBe(served);
      }
      expect(await resultFileBytes(store.files, 'batch_01NONE', 'output')).toBe(0);
    } finally {
      await store.close();
    }
  });
});

describe('result file lines', () => {
  it('carry the stored response of a request that ran', () => {
    const line = resultFileLine({ key: 7, customId: 'ok', type: 'succeeded', result: '{"status_code":200,"request_id":"req_1","body":{}}' });
    expect(JSON.parse(line)).toEqual({ id: 'batch_req_7', custom_id: 'ok', response: { status_code: 200, request_id: 'req_1', body: {} }, error: null });
  });

  it('say why a request has no response: expired, canceled, or quarantined', () => {
    const error = (type: 'expired' | 'canceled' | 'errored') => JSON.parse(resultFileLine({ key: 1, customId: 'c', type, result: null })).error;
    expect(error('expired').code).toBe('batch_expired');
    expect(error('canceled').code).toBe('batch_cancelled');
    expect(error('errored')).toEqual({ code: 'server_error', message: expect.stringContaining('could not be processed') });
  });
});
