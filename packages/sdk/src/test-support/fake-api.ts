/**
 * A real HTTP server on 127.0.0.1 that plays the Message Batches API in tests. Test-only: it is
 * excluded from the package build.
 */
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { BatchCreateParams, MessageBatch, MessageBatchResult } from '../wire-types.js';

export interface RecordedRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  body: string;
}

export type Handler = (req: RecordedRequest, res: ServerResponse) => void | Promise<void>;

export interface FakeAPI {
  baseURL: string;
  /** Every request received, in arrival order. */
  requests: RecordedRequest[];
  close(): Promise<void>;
}

let requestCounter = 0;

export async function startFakeAPI(handler: Handler): Promise<FakeAPI> {
  const requests: RecordedRequest[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://fake');
      const recorded: RecordedRequest = {
        method: req.method ?? 'GET',
        path: url.pathname,
        query: url.searchParams,
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      requests.push(recorded);
      Promise.resolve(handler(recorded, res)).catch((error: unknown) => {
        sendError(res, 500, 'api_error', `fake API handler failed: ${String(error)}`);
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseURL: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export function sendJSON(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent) return;
  res.writeHead(status, {
    'content-type': 'application/json',
    'request-id': `req_${++requestCounter}`,
    ...headers,
  });
  res.end(JSON.stringify(body));
}

export function sendError(
  res: ServerResponse,
  status: number,
  type: string,
  message: string,
  headers: Record<string, string> = {},
): void {
  const requestID = headers['request-id'] ?? `req_${++requestCounter}`;
  sendJSON(res, status, { type: 'error', error: { type, message }, request_id: requestID }, { 'request-id': requestID, ...headers });
}

export function makeBatch(overrides: Partial<MessageBatch> = {}): MessageBatch {
  return {
    id: 'msgbatch_01',
    type: 'message_batch',
    processing_status: 'in_progress',
    request_counts: { processing: 1, succeeded: 0, errored: 0, canceled: 0, expired: 0 },
    ended_at: null,
    created_at: '2026-01-01T00:00:00.000000Z',
    expires_at: '2026-01-02T00:00:00.000000Z',
    archived_at: null,
    cancel_initiated_at: null,
    results_url: null,
    ...overrides,
  };
}

export function resultFor(customID: string, type: MessageBatchResult['type']): MessageBatchResult {
  if (type === 'succeeded') {
    return {
      type,
      message: {
        id: `msg_${customID}`,
        type: 'message',
        role: 'assistant',
        content: [{ type: 'text', text: `answer ${customID}`, citations: null }],
        model: 'emulator',
        stop_reason: 'end_turn',
        stop_sequence: null,
        usage: {
          input_tokens: 1,
          output_tokens: 1,
          cache_creation_input_tokens: null,
          cache_read_input_tokens: null,
          cache_creation: null,
          server_tool_use: null,
          service_tier: 'batch',
        },
      },
    };
  }
  if (type === 'errored') {
    return { type, error: { type: 'error', error: { type: 'api_error', message: 'backend failed' }, request_id: null } };
  }
  return { type };
}

interface StoredBatch {
  batch: MessageBatch;
  customIDs: string[];
  polls: number;
}

/**
 * A tiny in-memory batch service: each create is stored, a batch ends after `pollsUntilEnded`
 * retrieves, and each request's result type comes from `outcome`.
 */
export class BatchEmulator {
  readonly batches: StoredBatch[] = [];
  /** Byte length of every create body received. */
  readonly createBodyBytes: number[] = [];
  pollsUntilEnded = 1;
  outcome: (customID: string) => MessageBatchResult['type'] = () => 'succeeded';
  /** Answers a request before the emulator does when it returns true. */
  intercept: (req: RecordedRequest, res: ServerResponse) => boolean = () => false;
  baseURL = '';

  readonly handle: Handler = (req, res) => {
    if (this.intercept(req, res)) return;
    const match = /^\/v1\/messages\/batches(?:\/([^/]+))?(\/results)?$/.exec(req.path);
    if (req.method === 'POST' && req.path === '/v1/messages/batches') {
      this.createBodyBytes.push(Buffer.byteLength(req.body));
      const { requests } = JSON.parse(req.body) as BatchCreateParams;
      const id = `msgbatch_${String(this.batches.length + 1).padStart(3, '0')}`;
      const counts = { processing: requests.length, succeeded: 0, errored: 0, canceled: 0, expired: 0 };
      const batch = makeBatch({ id, request_counts: counts });
      this.batches.push({ batch, customIDs: requests.map((r) => r.custom_id), polls: 0 });
      sendJSON(res, 200, batch);
      return;
    }
    const stored = this.batches.find((b) => b.batch.id === match?.[1]);
    if (!match || !stored) {
      sendError(res, 404, 'not_found_error', `No route or batch for ${req.method} ${req.path}`);
    } else if (match[2]) {
      res.writeHead(200, { 'content-type': 'application/x-jsonl' });
      for (const customID of stored.customIDs) {
        res.write(`${JSON.stringify({ custom_id: customID, result: resultFor(customID, this.outcome(customID)) })}\n`);
      }
      res.end();
    } else {
      stored.polls++;
      if (stored.polls >= this.pollsUntilEnded) this.#end(stored);
      sendJSON(res, 200, stored.batch);
    }
  };

  #end(stored: StoredBatch): void {
    if (stored.batch.processing_status === 'ended') return;
    const counts = { processing: 0, succeeded: 0, errored: 0, canceled: 0, expired: 0 };
    for (const customID of stored.customIDs) counts[this.outcome(customID)]++;
    stored.batch = {
      ...stored.batch,
      processing_status: 'ended',
      request_counts: counts,
      ended_at: '2026-01-01T00:01:00.000000Z',
      results_url: `${this.baseURL}/v1/messages/batches/${stored.batch.id}/results`,
    };
  }
}
