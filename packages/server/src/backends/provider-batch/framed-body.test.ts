import { describe, expect, it } from 'vitest';
import { withFramedBody, type Framing } from './framed-body.js';
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

/** The body `withFramedBody` sends, with its content type and length. */
async function sent(source: Parameters<typeof withFramedBody>[0], limits: { maxRequests: number; maxBytes: number }): Promise<{ text: string; contentType: string; length?: number }> {
  return withFramedBody(source, FRAMING, limits, async (body) => {
    const chunks: Buffer[] = [];
    for await (const chunk of body.chunks) chunks.push(chunk);
    return { text: Buffer.concat(chunks).toString('utf8'), contentType: body.contentType, length: body.length };
  });
}

async function refusal(promise: Promise<unknown>): Promise<ProviderBatchError> {
  const error = await promise.then(() => undefined, (caught: unknown) => caught);
  expect(error).toBeInstanceOf(ProviderBatchError);
  return error as ProviderBatchError;
}

describe('withFramedBody', () => {
  it('frames pages of lines as they come, up to the limits exactly, and sends them with their length', async () => {
    expect(await sent(streamed(), { maxRequests: lines.length, maxBytes: linesBytes })).toEqual({ text: whole, contentType: 'application/json', length: Buffer.byteLength(whole) });
    expect((await sent(pages[0]!.slice(0, 2), { maxRequests: 2, maxBytes: 1e6 })).text).toBe(`[${pages[0]!.slice(0, 2).map(FRAMING.frame).join(',')}]`);
  });

  it('refuses an empty submission, or one line or one byte over the limits, without sending', async () => {
    let sends = 0;
    const send = async () => void (sends += 1);
    for (const limits of [{ maxRequests: lines.length - 1, maxBytes: linesBytes }, { maxRequests: lines.length, maxBytes: linesBytes - 1 }]) {
      expect(await refusal(withFramedBody(streamed(), FRAMING, limits, send))).toMatchObject({ retryable: false, errorType: 'invalid_request_error' });
    }
    expect(await refusal(withFramedBody([], FRAMING, { maxRequests: 10, maxBytes: 1000 }, send))).toMatchObject({ retryable: false });
    expect(sends).toBe(0);
  });
});
