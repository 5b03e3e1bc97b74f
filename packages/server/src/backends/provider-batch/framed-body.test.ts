import { describe, expect, it } from 'vitest';
import { framedBody, type Framing } from './framed-body.js';
import { ProviderBatchError, type ProviderBatchLine } from './provider-batch-client.js';

const FRAMING: Framing = { contentType: 'application/json', head: '[', separator: ',', tail: ']', frame: (line) => `{"id":"${line.customId}","b":${line.body}}` };

/** 3 pages of 30,000 lines: 1.2 MB framed, many chunks. */
const pages: ProviderBatchLine[][] = [0, 1, 2].map((page) => Array.from({ length: 30_000 }, (_, i) => ({ customId: `${page}-${i}`, body: `"é${i % 10}"` })));
const lines = pages.flat();
const whole = `[${lines.map(FRAMING.frame).join(',')}]`;
const linesBytes = Buffer.byteLength(whole) - 2;

async function* streamed(): AsyncGenerator<ProviderBatchLine[]> {
  yield* pages;
}

async function text(limits: { maxRequests: number; maxBytes: number }): Promise<string> {
  const body = await framedBody(streamed(), FRAMING, limits);
  const chunks: Buffer[] = [];
  for await (const chunk of body.chunks) chunks.push(chunk);
  expect(body.length).toBeUndefined();
  return Buffer.concat(chunks).toString('utf8');
}

async function refusal(promise: Promise<unknown>): Promise<ProviderBatchError> {
  const error = await promise.then(() => undefined, (caught: unknown) => caught);
  expect(error).toBeInstanceOf(ProviderBatchError);
  return error as ProviderBatchError;
}

describe('framedBody', () => {
  it('frames pages of lines as they come, up to the limits exactly', async () => {
    expect(await text({ maxRequests: lines.length, maxBytes: linesBytes })).toBe(whole);
    expect(await framedBody(pages[0]!.slice(0, 2), FRAMING, { maxRequests: 2, maxBytes: 1e6 })).toMatchObject({ contentType: 'application/json' });
  });

  it('refuses one line or one byte over the limits before the body ends', async () => {
    for (const limits of [{ maxRequests: lines.length - 1, maxBytes: linesBytes }, { maxRequests: lines.length, maxBytes: linesBytes - 1 }]) {
      expect(await refusal(text(limits))).toMatchObject({ retryable: false, errorType: 'invalid_request_error' });
    }
  });

  it('refuses an empty submission, or a first chunk over the limits, before any chunk is given', async () => {
    expect(await refusal(framedBody([], FRAMING, { maxRequests: 10, maxBytes: 1000 }))).toMatchObject({ retryable: false });
    expect(await refusal(framedBody(pages[0]!.slice(0, 3), FRAMING, { maxRequests: 2, maxBytes: 1000 }))).toMatchObject({ retryable: false });
    expect(await refusal(framedBody(pages[0]!.slice(0, 3), FRAMING, { maxRequests: 3, maxBytes: 10 }))).toMatchObject({ retryable: false });
  });
});
