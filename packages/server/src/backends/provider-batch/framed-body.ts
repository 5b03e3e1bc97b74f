import { withSpooled } from '../../spool.js';
import { ProviderBatchError, type FramedLines, type ProviderBatchLimits, type ProviderBatchLine, type ProviderBatchLines } from './provider-batch-client.js';
import type { OutgoingBody } from './provider-http.js';

/** How the lines of a submission become one request body. */
export interface Framing {
  contentType: string;
  /** Text before the first line. */
  head: string;
  /** Text between two lines. */
  separator: string;
  /** Text after the last line. */
  tail: string;
  /** One line's text; its `body` is spliced in as it is, never parsed. */
  frame(line: ProviderBatchLine): string;
}

const CHUNK_CHARS = 64 * 1024;

function refuse(message: string): ProviderBatchError {
  return new ProviderBatchError(message, { status: 0, retryable: false, errorType: 'invalid_request_error' });
}

function pagesOf(lines: ProviderBatchLines): Iterable<readonly ProviderBatchLine[]> | AsyncIterable<readonly ProviderBatchLine[] | FramedLines> {
  return Symbol.asyncIterator in lines ? lines : [lines];
}

/**
 * The body's chunks of about 64 KiB, framed as the pages of lines arrive (a page the store framed
 * already is one chunk). The framed lines
 * (separators included, head and tail not) are counted exactly: more than `maxRequests` lines, or
 * more than `maxBytes` bytes, throw before the tail, so an over-limit body is never whole.
 */
async function* framedChunks(pages: ProviderBatchLines, framing: Framing, limits: ProviderBatchLimits): AsyncGenerator<Buffer> {
  const headBytes = Buffer.byteLength(framing.head);
  let chunk = framing.head;
  let count = 0;
  let bytes = -headBytes;
  const counted = (text: string): Buffer => {
    const buffer = Buffer.from(text);
    bytes += buffer.length;
    if (bytes > limits.maxBytes) throw refuse(`the lines exceed the provider's limit of ${limits.maxBytes} bytes for one batch`);
    return buffer;
  };
  for await (const page of pagesOf(pages)) {
    if (!Array.isArray(page)) {
      // Written already, with this framing's lines and separator.
      const framed = page as FramedLines;
      chunk += (count === 0 ? '' : framing.separator) + framed.text;
      count += framed.count;
      if (count > limits.maxRequests) throw refuse(`the lines exceed the provider's limit of ${limits.maxRequests} requests for one batch`);
      yield counted(chunk);
      chunk = '';
      continue;
    }
    for (const line of page as readonly ProviderBatchLine[]) {
      count += 1;
      if (count > limits.maxRequests) throw refuse(`the lines exceed the provider's limit of ${limits.maxRequests} requests for one batch`);
      chunk += (count === 1 ? '' : framing.separator) + framing.frame(line);
      if (chunk.length < CHUNK_CHARS) continue;
      yield counted(chunk);
      chunk = '';
    }
  }
  if (count === 0) throw refuse('a provider batch needs at least one request');
  const last = counted(chunk);
  yield Buffer.concat([last, Buffer.from(framing.tail)]);
}

/**
 * Frames a submission's lines into a temporary file as they are read (neither the lines nor the
 * body are held whole), then runs `send` with the body and its `content-length`: servers and
 * proxies in front of a provider may refuse a chunked upload. The limits are checked while the
 * lines are framed: an empty submission, or one over `limits`, is refused (not retryable) before
 * the provider is called.
 */
export async function withFramedBody<T>(lines: ProviderBatchLines, framing: Framing, limits: ProviderBatchLimits, send: (body: OutgoingBody) => Promise<T>): Promise<T> {
  return withSpooled(framedChunks(lines, framing, limits), (content, bytes) => send({ contentType: framing.contentType, length: bytes, chunks: content() }));
}
