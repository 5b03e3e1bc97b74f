import { createServer, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll } from 'vitest';

/**
 * What the proxy does to a create once batchd has answered it: `drop` destroys the client's
 * connection instead of passing the answer on; `503` answers 503 `overloaded_error` instead.
 */
export type CreateFault = 'drop' | '503';

/** One create that passed through the proxy, and batchd's own answer to it. */
export interface SeenCreate {
  /** The `x-stainless-retry-count` header the client sent, or null. */
  retryCount: string | null;
  status: number;
  headers: IncomingHttpHeaders;
  /** batchd's answer, parsed. */
  body: { id?: string; error?: { type: string } };
  fault: CreateFault | null;
}

export interface CreateFaultProxy {
  url: string;
  /** Faults for the next creates, in order; later creates pass through untouched. */
  failNextCreates(...faults: CreateFault[]): void;
  /** Every create seen so far, in order. */
  readonly creates: SeenCreate[];
}

/** Batch creates of both APIs. */
const CREATE_PATHS = new Set(['/v1/messages/batches', '/v1/batches']);

const proxies = new Set<() => Promise<void>>();
afterAll(async () => {
  await Promise.all([...proxies].map((close) => close()));
});

/**
 * An HTTP proxy on loopback in front of `target` (a batchd URL): every request is forwarded,
 * and creates (`POST /v1/messages/batches` or `/v1/batches`) get the faults asked for once batchd has answered,
 * so batchd made the batch but the client never hears of it. Closed when the test file ends.
 */
export async function startCreateFaultProxy(target: string): Promise<CreateFaultProxy> {
  const faults: CreateFault[] = [];
  const creates: SeenCreate[] = [];
  const server = createServer((req, res) => {
    const isCreate = req.method === 'POST' && CREATE_PATHS.has(req.url?.split('?')[0] ?? '');
    const fault = isCreate ? (faults.shift() ?? null) : null;
    const upstream = httpRequest(new URL(req.url ?? '/', target), { method: req.method, headers: req.headers }, (answer) => {
      if (!isCreate) {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
        return;
      }
      const chunks: Buffer[] = [];
      answer.on('data', (chunk: Buffer) => chunks.push(chunk));
      answer.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        const retryCount = req.headers['x-stainless-retry-count'];
        creates.push({ retryCount: typeof retryCount === 'string' ? retryCount : null, status: answer.statusCode ?? 0, headers: answer.headers, body: JSON.parse(text), fault });
        if (fault === 'drop') {
          res.socket?.destroy();
        } else if (fault === '503') {
          res.writeHead(503, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ type: 'error', error: { type: 'overloaded_error', message: 'Overloaded (injected by the test proxy)' }, request_id: null }));
        } else {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          res.end(text);
        }
      });
    });
    upstream.on('error', () => res.socket?.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  proxies.add(close);
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    failNextCreates: (...more) => faults.push(...more),
    creates,
  };
}
