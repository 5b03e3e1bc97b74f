import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ANTHROPIC_LINE_TEMPLATE } from '../backends/provider-batch/anthropic-batch-client.js';
import { withFramedBody, type Framing } from '../backends/provider-batch/framed-body.js';
import type { ProviderBatchLine, ProviderBatchLines } from '../backends/provider-batch/provider-batch-client.js';
import { SqliteStore } from '../store/sqlite/sqlite-store.js';
import { submissionLines } from './provider-send-lines.js';

const T0 = 1_800_000_000_000;
const clock = { now: () => T0 };
const LIMITS = { maxRequests: 100_000, maxBytes: 100_000_000 };
const AUDIO = { type: 'input_audio', input_audio: { data: 'AAAA', format: 'wav' } };

describe('submissionLines', () => {
  let dir: string;
  let store: SqliteStore;
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** A chat batch of `count` requests routed and opened as one submission: every 1,000th asks for audio, which Messages cannot carry. */
  async function opened(count: number) {
    dir = mkdtempSync(join(tmpdir(), 'batchd-send-lines-'));
    store = new SqliteStore(join(dir, 'db.sqlite'));
    const batch = await store.createBatch(
      { id: 'msgbatch_01SENDLINES', workspaceId: 'w', createdAt: T0, expiresAt: T0 + 3_600_000, archiveAt: T0 + 7_200_000, dialect: 'chat', endpoint: '/v1/chat/completions' },
      (async function* () {
        yield Array.from({ length: count }, (_, i) => {
          const content = i % 1000 === 999 ? [AUDIO] : `hi ${i}`;
          return { customId: `r${i}`, params: JSON.stringify({ model: 'gpt-x', max_tokens: 8, messages: [{ role: 'user', content }] }) };
        });
      })(),
    );
    while ((await store.providerBatches.routeQueued('pb', '/v1/chat/completions', 10_000, T0)) > 0);
    const submission = (await store.providerBatches.openSubmission('pb', 'o', T0 + 60_000, LIMITS, T0))!;
    const pagesRead: number[] = [];
    const counted = Object.assign(Object.create(store.providerBatches) as typeof store.providerBatches, {
      submissionRequests: (id: number, after: number, limit: number) => {
        pagesRead.push(after);
        return store.providerBatches.submissionRequests(id, after, limit);
      },
    });
    return { batch, submission, counted, pagesRead };
  }

  it('reads pages only as they are taken, ending untranslatable requests errored as it reads them', async () => {
    const { batch, submission, counted, pagesRead } = await opened(12_000);
    const lines = await submissionLines(counted, 'anthropic-batch', clock, submission.id);
    expect(pagesRead).toHaveLength(1);
    const pages: ProviderBatchLine[][] = [];
    for await (const page of lines!) pages.push(page as ProviderBatchLine[]);
    expect(pagesRead).toHaveLength(4);
    expect(pages.map((page) => page.length)).toEqual([4995, 4995, 1998]);
    expect(JSON.parse(pages[0]![0]!.body)).toMatchObject({ model: 'gpt-x', messages: [{ role: 'user', content: 'hi 0' }] });
    expect((await store.getBatch('w', batch.id))!.counts).toMatchObject({ processing: 11_988, errored: 12 });
  });

  it('sends the same lines when the store writes those sent unchanged itself, and the translated ones after them', async () => {
    dir = mkdtempSync(join(tmpdir(), 'batchd-send-lines-'));
    store = new SqliteStore(join(dir, 'db.sqlite'));
    const batch = (id: string, dialect: 'messages' | 'chat', count: number) =>
      store.createBatch(
        { id, workspaceId: 'w', createdAt: T0, expiresAt: T0 + 3_600_000, archiveAt: T0 + 7_200_000, dialect, ...(dialect === 'chat' ? { endpoint: '/v1/chat/completions' } : {}) },
        (async function* () {
          yield Array.from({ length: count }, (_, i) => {
            const params = JSON.stringify({ model: 'claude-x', max_tokens: 8, messages: [{ role: 'user', content: `${dialect} ${i} ☃ "quoted" ${i === 5 ? 'x'.repeat(3000) : ''}` }] });
            // One stored in pieces, as the create stores large params.
            return { customId: `r${i}`, params: i === 5 ? [params.slice(0, 1000), params.slice(1000, 2000), params.slice(2000)] : params };
          });
        })(),
      );
    await batch('msgbatch_01FRAMED', 'messages', 12_000);
    await batch('batch_01TRANSLATED', 'chat', 7);
    while ((await store.providerBatches.routeQueued('pb', '/v1/chat/completions', 10_000, T0)) > 0);
    const submission = (await store.providerBatches.openSubmission('pb', 'o', T0 + 60_000, LIMITS, T0))!;
    expect(submission.requestCount).toBe(12_007);
    const framing: Framing = { contentType: 'application/json', head: '[', separator: ',', tail: ']', frame: (line) => `{"custom_id":${JSON.stringify(line.customId)},"params":${line.body}}` };
    const body = async (lines: ProviderBatchLines | null) =>
      withFramedBody(lines!, framing, LIMITS, async (sent) => {
        let text = '';
        for await (const chunk of sent.chunks) text += chunk;
        return text;
      });
    const byStore = await body(await submissionLines(store.providerBatches, 'anthropic-batch', clock, submission.id, ANTHROPIC_LINE_TEMPLATE));
    const byLine = await body(await submissionLines(store.providerBatches, 'anthropic-batch', clock, submission.id));
    // Byte for byte: the Messages requests come first by key here, so the order is the same too.
    expect(byStore).toBe(byLine);
    expect(JSON.parse(byStore)).toHaveLength(12_007);
  });

  it('is null when no request of the submission is left to send', async () => {
    const { submission, counted } = await opened(3);
    const waiting = await store.providerBatches.submissionRequests(submission.id, 0, 10);
    await store.providerBatches.completeSubmitted(submission.id, waiting.map((request) => ({ key: request.key, type: 'expired' as const, result: null })), T0);
    expect(await submissionLines(counted, 'anthropic-batch', clock, submission.id)).toBeNull();
  });
});
