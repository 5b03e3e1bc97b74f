import type { Message } from '@batchd/sdk';

/** The stored result of a message batch request that succeeded: `{"type":"succeeded","message":…}`; `text`, the message's own one-line JSON, when given. */
export function succeededResult(message: Message, text?: string): string {
  return `{"type":"succeeded","message":${text ?? JSON.stringify(message)}}`;
}

/**
 * An errored result in the hosted API's shape. Its `error` also carries `message` (the schema
 * allows extra fields there), so `result.error.message`, as the Python SDK's documentation prints
 * it, reads the message too.
 */
export function erroredResult(errorType: string, message: string): string {
  return JSON.stringify({ type: 'errored', error: { type: 'error', error: { type: errorType, message }, request_id: null, message } });
}
