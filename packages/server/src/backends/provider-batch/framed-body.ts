import { ProviderBatchError, type ProviderBatchLimits, type ProviderBatchLine } from './provider-batch-client.js';
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

function* streamed(lines: readonly ProviderBatchLine[], framing: Framing): Generator<Buffer> {
  let chunk = framing.head;
  for (let index = 0; index < lines.length; index += 1) {
    chunk += (index === 0 ? '' : framing.separator) + framing.frame(lines[index]!);
    if (chunk.length < CHUNK_CHARS) continue;
    yield Buffer.from(chunk);
    chunk = '';
  }
  yield Buffer.from(chunk + framing.tail);
}

/**
 * The body of a submission, streamed in chunks of about 64 KiB so no string of the whole body is
 * built. Refuses (not retryable) an empty submission, and one over `limits`: more lines than
 * `maxRequests`, or framed lines longer than `maxBytes`.
 */
export function framedBody(lines: readonly ProviderBatchLine[], framing: Framing, limits: ProviderBatchLimits): OutgoingBody {
  if (lines.length === 0) throw refuse('a provider batch needs at least one request');
  if (lines.length > limits.maxRequests) throw refuse(`${lines.length} requests are over the provider's limit of ${limits.maxRequests}`);
  let linesBytes = Buffer.byteLength(framing.separator) * (lines.length - 1);
  for (const line of lines) linesBytes += Buffer.byteLength(framing.frame(line));
  if (linesBytes > limits.maxBytes) throw refuse(`${linesBytes} bytes of requests are over the provider's limit of ${limits.maxBytes}`);
  const length = Buffer.byteLength(framing.head) + linesBytes + Buffer.byteLength(framing.tail);
  return { contentType: framing.contentType, length, chunks: streamed(lines, framing) };
}
