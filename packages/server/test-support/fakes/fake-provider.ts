import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { anthropicMessage, anthropicTokenCount, errorBody, goDuration, modelList, openAICompletion, type ProviderShape } from './fake-answers.js';
import { streamFrames } from './fake-streams.js';
import type { Json } from '../../src/json.js';
import { fakeEmbeddings, fakeResponse, fakeTextCompletion } from './fake-openai-answers.js';
import { logNormalLatency, seededRandom, type LogNormalLatency } from './fake-latency.js';

export { seededRandom } from './fake-latency.js';

/**
 * A fake model provider: a real HTTP server on 127.0.0.1 (port chosen by the system) speaking the
 * Anthropic Messages API (`POST /v1/messages`) or OpenAI's chat completions, embeddings,
 * completions and Responses APIs (`POST /v1/chat/completions`, `/v1/embeddings`,
 * `/v1/completions`, `/v1/responses`; see `fake-openai-answers.ts`), and `GET /v1/models`, for tests and benchmarks.
 *
 * Each request is handled in this order:
 * 1. recorded (path, headers, parsed body, connection number, whether answered), unless `record` is false;
 * 2. checked against `apiKey`: 401, its message echoing the key received, as a careless provider's might;
 * 3. answered 429 with `retry-after` and `retry-after-ms` when it arrived with `capacity` requests
 *    already admitted and in flight;
 * 4. counted against the `rateLimit` budget of the current window, with rate-limit headers
 *    (`anthropic-ratelimit-requests-*` or `x-ratelimit-*-requests`); 429 once the budget is spent;
 * 5. failed with a fault: from the `inject()` queue first, else with probability `faults.rate`
 *    drawn from a PRNG seeded by `faults.seed`;
 * 6. answered after `latencyMs` (or a draw from `latency`) with the deterministic echo answer (`fake-answers.ts`) or `respond(body)`,
 *    streamed when it asks (`fake-streams.ts`), or as `serve(body)` answers, when it answers.
 *
 * Faults: a number answers that HTTP status with an error body in the provider's shape (429 also
 * with `retry-after: 1`); `drop` destroys the socket; `garbage` answers 200 with a body that is
 * not JSON; `stall` never answers (until the client gives up or the provider closes).
 */

export type FakeFault = number | 'drop' | 'garbage' | 'stall';

export interface FakeProviderOptions {
  /** Which API the provider speaks. */
  shape: ProviderShape;
  /** Time each answered request takes, in milliseconds. Defaults to 0. */
  latencyMs?: number;
  /** Jittered time instead of `latencyMs`: a log-normal draw per answered request, in the order they reach it. */
  latency?: LogNormalLatency;
  /** Most requests in flight before further ones answer 429. Defaults to no limit. */
  capacity?: number;
  /** `retry-after` sent with capacity 429s, in milliseconds (also sent as `retry-after-ms`). Defaults to 1000. */
  capacityRetryAfterMs?: number;
  /** A request budget per fixed window, announced in rate-limit headers; requests beyond it answer 429. */
  rateLimit?: { requests: number; windowMs?: number };
  /** Random faults: each request fails with probability `rate`, its kind drawn from `kinds`. */
  faults?: { rate: number; kinds?: readonly FakeFault[]; seed?: number };
  /** The key requests must carry (`x-api-key` or `Authorization: Bearer`); any key when absent. */
  apiKey?: string;
  /** Builds the answer body from the parsed request body instead of the echo answer. */
  respond?: (body: unknown) => unknown;
  /** Writes the answer body itself, from the request body's text: numbers `JSON.stringify` cannot write. */
  respondText?: (text: string) => string;
  /** Answers in its own time, instead of `latencyMs` and `respond` (a model of a provider's cache, say). */
  serve?: (body: unknown) => Promise<unknown>;
  /** Keeps every request in `requests`. Defaults to true; benchmarks turn it off so memory stays flat. */
  record?: boolean;
  /** The models `GET /v1/models` lists, in the provider's shape (`modelList`). Defaults to none. */
  models?: Json[];
}

/** A request as the provider received it. */
export interface ReceivedRequest {
  path: string;
  headers: IncomingHttpHeaders;
  /** The body parsed as JSON, or undefined when it is not JSON. */
  body: unknown;
  /** The body as it arrived. */
  text: string;
  /** The number of the connection it arrived on, counting from 1. */
  connection: number;
  /** Whether the whole answer was handed to the connection. */
  answered: boolean;
}

const DEFAULT_FAULT_KINDS: readonly FakeFault[] = [429, 529, 500, 'drop', 'garbage'];
const DEFAULT_WINDOW_MS = 60_000;

/** The answer each path builds from a request's body, by the provider's shape. */
const ROUTES: Readonly<Record<ProviderShape, Readonly<Record<string, (body: unknown) => Json>>>> = {
  anthropic: { '/v1/messages': anthropicMessage, '/v1/messages/count_tokens': anthropicTokenCount },
  openai: { '/v1/chat/completions': openAICompletion, '/v1/embeddings': fakeEmbeddings, '/v1/completions': fakeTextCompletion, '/v1/responses': fakeResponse },
};

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

export class FakeProvider {
  /** The base URL a backend is configured with: the origin for Anthropic, the origin plus `/v1` for OpenAI. */
  readonly url: string;
  /** Every request received, in arrival order (none when started with `record: false`). */
  readonly requests: ReceivedRequest[] = [];
  readonly #server: Server;
  readonly #options: FakeProviderOptions;
  readonly #random: () => number;
  readonly #latencyMs: () => number;
  readonly #injected: FakeFault[] = [];
  readonly #socketNumbers = new WeakMap<Socket, number>();
  #connections = 0;
  #received = 0;
  #inFlight = 0;
  /** Requests in flight that were not turned away for capacity. */
  #admitted = 0;
  #maxInFlight = 0;
  #windowStart = 0;
  #windowUsed = 0;
  readonly #service = { served: 0, busyMs: 0, firstAdmittedAt: 0, lastClosedAt: 0 };

  private constructor(server: Server, options: FakeProviderOptions) {
    this.#server = server;
    this.#options = options;
    this.#random = seededRandom(options.faults?.seed ?? 1);
    const fixedMs = options.latencyMs ?? 0;
    this.#latencyMs = options.latency ? logNormalLatency(options.latency) : () => fixedMs;
    const { port } = server.address() as AddressInfo;
    this.url = options.shape === 'anthropic' ? `http://127.0.0.1:${port}` : `http://127.0.0.1:${port}/v1`;
    server.on('connection', (socket: Socket) => {
      this.#connections += 1;
      this.#socketNumbers.set(socket, this.#connections);
    });
    server.on('request', (request: IncomingMessage, response: ServerResponse) => {
      this.#handle(request, response).catch(() => response.destroy());
    });
  }

  /** Starts a provider listening on 127.0.0.1 on a free port. */
  static async start(options: FakeProviderOptions): Promise<FakeProvider> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return new FakeProvider(server, options);
  }

  /** Connections accepted so far. */
  get connections(): number {
    return this.#connections;
  }

  /** Requests received so far, recorded or not, turned away or not. */
  get received(): number {
    return this.#received;
  }

  /** The most requests that were in flight at once. */
  get maxInFlight(): number {
    return this.#maxInFlight;
  }

  /**
   * How the admitted requests occupied the provider: how many closed, their mean time from
   * arrival to close, and the share of `capacity` they kept busy from the first arrival to the
   * last close (1 when every slot was taken all along).
   */
  get service(): { served: number; meanServiceMs: number; utilization: number } {
    const { served, busyMs, firstAdmittedAt, lastClosedAt } = this.#service;
    const spanMs = lastClosedAt - firstAdmittedAt;
    const capacity = this.#options.capacity ?? this.#maxInFlight;
    return { served, meanServiceMs: served === 0 ? 0 : busyMs / served, utilization: spanMs <= 0 ? 0 : busyMs / (capacity * spanMs) };
  }

  /** Makes the next requests fail with these faults, one each, in order. */
  inject(...faults: FakeFault[]): void {
    this.#injected.push(...faults);
  }

  /** Stops listening and destroys every open connection, stalled ones included. */
  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    this.#server.closeAllConnections();
    await closed;
  }

  async #handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const capacity = this.#options.capacity;
    const admitted = capacity === undefined || this.#admitted < capacity;
    const arrivedAt = performance.now();
    this.#received += 1;
    this.#inFlight += 1;
    if (admitted) this.#admitted += 1;
    this.#maxInFlight = Math.max(this.#maxInFlight, this.#inFlight);
    if (admitted && this.#service.firstAdmittedAt === 0) this.#service.firstAdmittedAt = arrivedAt;
    response.on('close', () => {
      this.#inFlight -= 1;
      if (!admitted) return;
      this.#admitted -= 1;
      const closedAt = performance.now();
      this.#service.served += 1;
      this.#service.busyMs += closedAt - arrivedAt;
      this.#service.lastClosedAt = closedAt;
    });
    const text = await readBody(request);
    const body = parseJson(text);
    const path = request.url ?? '/';
    if (this.#options.record !== false) {
      const received: ReceivedRequest = { path, headers: request.headers, body, text, connection: this.#socketNumbers.get(request.socket) ?? 0, answered: false };
      this.requests.push(received);
      response.on('finish', () => (received.answered = true));
    }

    const { shape, apiKey } = this.#options;
    const key = shape === 'anthropic' ? request.headers['x-api-key'] : request.headers.authorization?.replace(/^Bearer /, '');
    if (apiKey !== undefined && key !== apiKey) return this.#error(response, 401, `invalid api key: ${String(key)}`);
    if (request.method === 'GET' && path.split('?')[0] === '/v1/models') return this.#send(response, 200, JSON.stringify(modelList(shape, this.#options.models ?? [], path)));
    const answerOf = Object.hasOwn(ROUTES[shape], path) ? ROUTES[shape][path] : undefined;
    if (request.method !== 'POST' || answerOf === undefined) return this.#error(response, 404, `no route ${request.method ?? ''} ${path}`);
    if (!admitted) {
      const retryAfterMs = this.#options.capacityRetryAfterMs ?? 1000;
      response.setHeader('retry-after', String(Math.ceil(retryAfterMs / 1000)));
      response.setHeader('retry-after-ms', String(retryAfterMs));
      return this.#error(response, 429, 'over capacity');
    }
    if (!this.#spendBudget(response)) return this.#error(response, 429, 'rate limit exceeded');

    const fault = this.#nextFault();
    if (fault === 'stall') return;
    if (fault === 'drop') {
      request.socket.destroy();
      return;
    }
    if (typeof fault === 'number') {
      if (fault === 429) response.setHeader('retry-after', '1');
      return this.#error(response, fault, `injected ${fault}`);
    }
    if (this.#options.serve && fault === undefined) return this.#send(response, 200, JSON.stringify(await this.#options.serve(body)));
    const latencyMs = this.#latencyMs();
    if (latencyMs > 0) await delay(latencyMs);
    if (fault === 'garbage') return this.#send(response, 200, '<html>upstream garbage');
    const frames = streamFrames(shape, path, body);
    if (frames) return this.#sendStream(response, frames);
    if (this.#options.respondText) return this.#send(response, 200, this.#options.respondText(text));
    const answer = this.#options.respond?.(body) ?? answerOf(body);
    this.#send(response, 200, JSON.stringify(answer));
  }

  /** Counts the request against the window's budget and sets the rate-limit headers; false when none is left. */
  #spendBudget(response: ServerResponse): boolean {
    const limit = this.#options.rateLimit;
    if (limit === undefined) return true;
    const windowMs = limit.windowMs ?? DEFAULT_WINDOW_MS;
    const now = Date.now();
    if (now - this.#windowStart >= windowMs) {
      this.#windowStart = now;
      this.#windowUsed = 0;
    }
    const allowed = this.#windowUsed < limit.requests;
    if (allowed) this.#windowUsed += 1;
    const remaining = String(limit.requests - this.#windowUsed);
    const resetInMs = this.#windowStart + windowMs - now;
    if (this.#options.shape === 'anthropic') {
      response.setHeader('anthropic-ratelimit-requests-limit', String(limit.requests));
      response.setHeader('anthropic-ratelimit-requests-remaining', remaining);
      response.setHeader('anthropic-ratelimit-requests-reset', new Date(now + resetInMs).toISOString());
    } else {
      response.setHeader('x-ratelimit-limit-requests', String(limit.requests));
      response.setHeader('x-ratelimit-remaining-requests', remaining);
      response.setHeader('x-ratelimit-reset-requests', goDuration(resetInMs));
    }
    if (!allowed) response.setHeader('retry-after', String(Math.ceil(resetInMs / 1000)));
    return allowed;
  }

  #nextFault(): FakeFault | undefined {
    const injected = this.#injected.shift();
    if (injected !== undefined) return injected;
    const faults = this.#options.faults;
    if (faults === undefined || this.#random() >= faults.rate) return undefined;
    const kinds = faults.kinds ?? DEFAULT_FAULT_KINDS;
    return kinds[Math.floor(this.#random() * kinds.length)];
  }

  #error(response: ServerResponse, status: number, message: string): void {
    this.#send(response, status, JSON.stringify(errorBody(this.#options.shape, status, message)));
  }

  /** Answers with server-sent events (`fake-streams.ts`). */
  #sendStream(response: ServerResponse, frames: string[]): void {
    response.writeHead(200, { 'content-type': 'text/event-stream', 'request-id': 'req_fake' });
    for (const frame of frames) response.write(frame);
    response.end();
  }

  #send(response: ServerResponse, status: number, text: string): void {
    response.writeHead(status, { 'content-type': 'application/json', 'request-id': 'req_fake' });
    response.end(text);
  }
}
