import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { errorBody, type ProviderShape } from './fake-answers.js';
import { DEFAULT_TIMING, type BatchTiming, type RequestScript } from './fake-batch-model.js';

/**
 * What the fake batch providers (`fake-anthropic-batches.ts`, `fake-openai-batches.ts`) share: a
 * real `node:http` server on 127.0.0.1, the key check (and Anthropic's `anthropic-version`), faults queued per route, the record of
 * calls and submissions, and control routes (`/_fake/…`) for a fake started in another process.
 *
 * Faults, taken one per call of their route, in order:
 * - a status (429 with `retry-after`, 500, 529, …): answered with an error body, nothing done;
 * - `drop`: the connection destroyed before anything is done;
 * - `hold`: the call is done (a create is accepted and recorded) but never answered;
 * - `accept-drop`: the call is done, then the connection destroyed;
 * - `cut`: a download stops halfway, its connection destroyed.
 */

export type BatchFault = number | 'drop' | 'hold' | 'accept-drop' | 'cut';
export type FaultRoute = 'create' | 'retrieve' | 'list' | 'cancel' | 'results' | 'upload' | 'content';

export interface FakeBatchesOptions {
  /** The key every call must carry (`x-api-key` or `Authorization: Bearer`); any key when absent. */
  apiKey?: string;
  /** The clock, in epoch milliseconds. Defaults to `Date.now`. */
  now?: () => number;
  timing?: Partial<BatchTiming>;
  /** What becomes of each request. Defaults to `succeed`. */
  script?: (customId: string, body: unknown) => RequestScript;
  /** The answer to a request that succeeds, from its body. Defaults to the echo answer (`fake-answers.ts`). */
  answer?: (body: unknown) => unknown;
  /** Keeps each call's body text in `calls` (tests of exact bodies). Defaults to false. */
  recordBodies?: boolean;
  /** `retry-after` of 429 faults, in seconds. Defaults to 1. */
  retryAfterSeconds?: number;
}

/** A call as the fake received it. */
export interface FakeCall {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** An answer: JSON, or a body written by `write` (which stops halfway when `cut`). */
export type FakeAnswer =
  | { status: number; json: unknown }
  | { status: number; contentType: string; write: (response: ServerResponse, cut: boolean) => Promise<void> };

/** A call the fake serves: the route its faults are queued under, and what doing it answers. */
export interface FakeRoute {
  route: FaultRoute | 'direct';
  run: () => FakeAnswer | Promise<FakeAnswer>;
}

/** A call refused with an error body in the provider's shape. */
export class FakeHttpError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

/** One batch submitted to the fake, answered or not. */
export interface Submission {
  id: string;
  customIds: string[];
  /** The `metadata` tag (OpenAI), when given. */
  tag?: string;
  /** Whether the provider failed the whole batch (OpenAI validation): none of its requests ran. */
  failed?: boolean;
}

export abstract class FakeBatchServer {
  readonly url: string;
  /** Every batch created, in order, whether its create was answered or not. */
  readonly submissions: Submission[] = [];
  /** Every call's method, path and headers (and body text with `recordBodies`), in order, with when its body was read and its answer sent. */
  readonly calls: { method: string; path: string; headers: IncomingHttpHeaders; body?: string; at: number; answeredAt?: number }[] = [];
  /** Calls of the direct API (`/v1/messages` or `/v1/chat/completions`). */
  directCalls = 0;
  readonly timing: BatchTiming;
  readonly options: FakeBatchesOptions;
  readonly #server: Server;
  readonly #faults = new Map<FaultRoute, BatchFault[]>();

  protected constructor(server: Server, readonly shape: ProviderShape, options: FakeBatchesOptions) {
    this.#server = server;
    this.options = options;
    this.timing = { ...DEFAULT_TIMING, ...options.timing };
    const { port } = server.address() as AddressInfo;
    this.url = shape === 'anthropic' ? `http://127.0.0.1:${port}` : `http://127.0.0.1:${port}/v1`;
    server.on('request', (request: IncomingMessage, response: ServerResponse) => {
      this.#handle(request, response).catch(() => response.destroy());
    });
  }

  protected static async listen(): Promise<Server> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return server;
  }

  /** How many times each custom_id was submitted in batches that ran (failed ones aside): 1 each when nothing was sent twice. */
  timesSubmitted(): Map<string, number> {
    const times = new Map<string, number>();
    for (const submission of this.submissions) {
      if (submission.failed) continue;
      for (const customId of submission.customIds) times.set(customId, (times.get(customId) ?? 0) + 1);
    }
    return times;
  }

  /** The current time of the fake's clock. */
  now(): number {
    return (this.options.now ?? Date.now)();
  }

  /** Queues faults for the next calls of `route`, one each. */
  inject(route: FaultRoute, ...faults: BatchFault[]): void {
    this.#faults.set(route, [...(this.#faults.get(route) ?? []), ...faults]);
  }

  /** The script of one request. */
  protected scriptOf(customId: string, body: unknown): RequestScript {
    return this.options.script?.(customId, body) ?? 'succeed';
  }

  /** The call served by this provider, or undefined for a 404. */
  protected abstract route(call: FakeCall): FakeRoute | undefined;

  /** Stops listening and destroys every open connection, held ones included. */
  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    this.#server.closeAllConnections();
    await closed;
  }

  async #handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const bodyRead = this.now();
    const url = new URL(request.url ?? '/', 'http://fake');
    const call: FakeCall = { method: request.method ?? 'GET', path: url.pathname, query: url.searchParams, headers: request.headers, body: Buffer.concat(chunks) };
    if (call.path.startsWith('/_fake/')) return this.#control(call, response);
    const record = { method: call.method, path: call.path, headers: call.headers, body: this.options.recordBodies ? call.body.toString('utf8') : undefined, at: bodyRead };
    this.calls.push(record);
    response.once('finish', () => Object.assign(record, { answeredAt: this.now() }));
    const key = this.shape === 'anthropic' ? request.headers['x-api-key'] : request.headers.authorization?.replace(/^Bearer /, '');
    if (this.options.apiKey !== undefined && key !== this.options.apiKey) return this.#error(response, 401, `invalid api key: ${String(key)}`);
    if (this.shape === 'anthropic' && request.headers['anthropic-version'] === undefined) return this.#error(response, 400, 'anthropic-version: header is required');
    const served = this.route(call);
    if (served === undefined) return this.#error(response, 404, `no route ${call.method} ${call.path}`);
    const fault = served.route === 'direct' ? undefined : this.#faults.get(served.route)?.shift();
    if (fault === 'drop') return void request.socket.destroy();
    if (typeof fault === 'number') {
      if (fault === 429) response.setHeader('retry-after', String(this.options.retryAfterSeconds ?? 1));
      return this.#error(response, fault, `injected ${fault}`);
    }
    let answer: FakeAnswer;
    try {
      answer = await served.run();
    } catch (error) {
      if (error instanceof FakeHttpError) return this.#error(response, error.status, error.message);
      throw error;
    }
    if (fault === 'hold') return;
    if (fault === 'accept-drop') return void request.socket.destroy();
    if ('json' in answer) return this.#send(response, answer.status, JSON.stringify(answer.json));
    response.writeHead(answer.status, { 'content-type': answer.contentType, 'request-id': 'req_fake' });
    await answer.write(response, fault === 'cut');
  }

  /** `GET /_fake/state`: submissions and counts; `GET /_fake/calls`: each call's method, path and times; `POST /_fake/faults` `{route, faults}`; `POST /_fake/timing`. */
  #control(call: FakeCall, response: ServerResponse): void {
    if (call.method === 'GET' && call.path === '/_fake/calls') {
      return this.#send(response, 200, JSON.stringify(this.calls.map(({ method, path, at, answeredAt }) => ({ method, path, at, answeredAt: answeredAt ?? null }))));
    }
    if (call.method === 'GET' && call.path === '/_fake/state') {
      const submissions = this.submissions.map(({ id, customIds, tag, failed }) => ({ id, requests: customIds.length, tag, failed }));
      const times = [...this.timesSubmitted().values()];
      const requests = { submitted: times.length, submittedTwice: times.filter((count) => count > 1).length };
      return this.#send(response, 200, JSON.stringify({ submissions, requests, directCalls: this.directCalls, calls: this.calls.length }));
    }
    const body = JSON.parse(call.body.toString('utf8') || '{}') as { route?: FaultRoute; faults?: BatchFault[] } & Partial<BatchTiming>;
    if (call.method === 'POST' && call.path === '/_fake/faults' && body.route !== undefined) this.inject(body.route, ...(body.faults ?? []));
    else if (call.method === 'POST' && call.path === '/_fake/timing') Object.assign(this.timing, body);
    else return this.#error(response, 404, `no control route ${call.path}`);
    this.#send(response, 200, '{}');
  }

  #error(response: ServerResponse, status: number, message: string): void {
    this.#send(response, status, JSON.stringify(errorBody(this.shape, status, message)));
  }

  #send(response: ServerResponse, status: number, text: string): void {
    response.writeHead(status, { 'content-type': 'application/json', 'request-id': 'req_fake' });
    response.end(text);
  }
}

/** Resolves when `response` can take more, or has closed. */
function drained(response: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      response.off('drain', done);
      response.off('close', done);
      resolve();
    };
    response.on('drain', done);
    response.on('close', done);
  });
}

/** Writes `lines` (each ending in `\n`) with backpressure, stopping halfway with a destroyed connection when `cut`. */
export async function writeLines(response: ServerResponse, lines: Iterable<string>, total: number, cut: boolean): Promise<void> {
  let written = 0;
  for (const line of lines) {
    if (cut && written >= Math.floor(total / 2)) return void response.socket?.destroy();
    written += 1;
    if (!response.write(line)) await drained(response);
    if (response.destroyed) return;
  }
  response.end();
}
