import type { BackendReplicaStatus } from '@batchd/sdk';
import { HttpEndpoint, type Exchange, type HttpEndpointOptions, type OpenStream } from '../http-endpoint.js';
import type { RateLimitState } from '../rate-limits.js';
import { chooseReplica, HashRing, ownerHasRoom } from './hash-ring.js';

/** How far above the average load a replica may go before its keys spill to the next on the ring. */
const EPSILON = 0.25;
/** How long a failing replica is skipped; doubled for each failure in a row, up to the longest. */
const FIRST_EJECTION_MS = 5_000;
const LONGEST_EJECTION_MS = 60_000;
/** Keys each replica remembers having answered, the oldest forgotten first. */
const PRIMED_KEYS = 4096;
/** Longest a call waits for the first call of its key on a replica: a stalled first call holds no one for long. */
const PRIME_WAIT_MS = 30_000;

export interface ReplicaSetOptions extends Omit<HttpEndpointOptions, 'url'> {
  /** Base URL of each replica, all serving the same models. */
  urls: readonly string[];
}

interface Replica {
  /** The URL without credentials, as status shows it. */
  label: string;
  endpoint: HttpEndpoint;
  calls: number;
  failures: number;
  /** Failures in a row, reset by an answer below 500. */
  strikes: number;
  downUntil: number;
  /** Keys this replica has answered a call for lately: its cache has seen their prefixes. */
  primed: Map<string, true>;
  /** Keys whose first call here is in flight, with what settles when it ends. */
  priming: Map<string, Promise<void>>;
}

function publicUrl(url: string): string {
  const parsed = new URL(url);
  return `${parsed.origin}${parsed.pathname}`;
}

/** Whether the exchange says the replica is unwell: a 5xx, or no answer for a reason other than time or the caller. */
function failed(exchange: { kind: string; status: number; errorType?: string }, signal: AbortSignal): boolean {
  if (exchange.kind !== 'error') return exchange.status >= 500;
  return exchange.status >= 500 || (exchange.status === 0 && exchange.errorType !== 'timeout_error' && !signal.aborted);
}

/** Resolves when `promise` settles, `signal` aborts or `PRIME_WAIT_MS` pass, whichever is first. */
function untilSettledOrAborted(promise: Promise<void>, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise<void>((resolve) => {
    const finish = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', finish);
      resolve();
    };
    const timer = setTimeout(finish, PRIME_WAIT_MS);
    signal.addEventListener('abort', finish, { once: true });
    void promise.then(finish);
  });
}

function refused(exchange: Exchange | OpenStream): boolean {
  return exchange.kind === 'error' && exchange.status === 0 && exchange.message.includes('ECONNREFUSED');
}

/**
 * The replicas of one backend, each behind its own keep-alive pool. A call with a routing key
 * goes to the replica consistent hashing with bounded load picks ({@link chooseReplica}); without
 * one, to the least loaded. A replica that answers 5xx or cannot be reached is skipped for a while
 * (its keys move to the next replica on the ring, and back when the time is up); a call refused a
 * connection never reached a replica, so it moves to the next one at once.
 *
 * Priming per replica: a call whose key a replica has not answered lately waits, once there, for
 * the call of that key already in flight to it, so that calls spilled together onto a replica read
 * the prefix its first one computed instead of each computing it (the lane primes the first replica).
 */
export class ReplicaSet {
  readonly #replicas: Replica[];
  readonly #ring: HashRing;
  readonly #loads: number[];
  readonly #now: () => number;
  #turn = 0;
  #last: Replica;

  constructor(options: ReplicaSetOptions) {
    if (options.urls.length === 0) throw new Error('a backend needs at least one URL');
    this.#replicas = options.urls.map((url) => ({
      label: publicUrl(url),
      endpoint: new HttpEndpoint({ ...options, url }),
      calls: 0,
      failures: 0,
      strikes: 0,
      downUntil: 0,
      primed: new Map<string, true>(),
      priming: new Map<string, Promise<void>>(),
    }));
    this.#ring = new HashRing(this.#replicas.map((replica) => replica.label));
    this.#loads = this.#replicas.map(() => 0);
    this.#now = options.now;
    this.#last = this.#replicas[0]!;
  }

  /** What the latest answer carrying rate-limit headers said, from the replica that answered last. */
  rateLimit(): RateLimitState {
    return this.#last.endpoint.rateLimit();
  }

  /** Each replica's URL, calls in flight and health, in configuration order. */
  status(): BackendReplicaStatus[] {
    const now = this.#now();
    return this.#replicas.map((replica, index) => ({
      url: replica.label,
      in_flight: this.#loads[index]!,
      up: replica.downUntil <= now,
      calls: replica.calls,
      failures: replica.failures,
    }));
  }

  /** Whether a call with `routingKey` would go to the replica the key prefers now, rather than spill past it for load. */
  hasRoomFor(routingKey: string): boolean {
    return this.#replicas.length === 1 || ownerHasRoom(this.#ring, routingKey, this.#loads, this.#up(), EPSILON);
  }

  /** POSTs `body` to the replica `routingKey` picks and reads the whole answer. */
  post(body: string, signal: AbortSignal, routingKey?: string, path?: string): Promise<Exchange> {
    return this.#call(signal, routingKey, (endpoint) => endpoint.post(body, signal, path), () => true);
  }

  /** POSTs `body` to the replica `routingKey` picks; its call counts until the streamed body closes. */
  open(body: string, signal: AbortSignal, routingKey?: string): Promise<OpenStream> {
    return this.#call(signal, routingKey, (endpoint) => endpoint.open(body, signal), (answer, done) => {
      if (answer.kind !== 'stream') return true;
      answer.body.once('close', done);
      return false;
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.#replicas.map((replica) => replica.endpoint.close()));
  }

  async #call<T extends Exchange | OpenStream>(
    signal: AbortSignal,
    routingKey: string | undefined,
    send: (endpoint: HttpEndpoint) => Promise<T>,
    endsNow: (answer: T, done: () => void) => boolean,
  ): Promise<T> {
    const tried = new Set<number>();
    let index = this.#choose(routingKey);
    for (;;) {
      const current = index;
      const replica = this.#replicas[current]!;
      tried.add(current);
      this.#loads[current]!++;
      replica.calls++;
      const done = () => this.#loads[current]!--;
      const primed = routingKey === undefined || this.#replicas.length === 1 ? undefined : await this.#prime(replica, routingKey, signal);
      let answer: T;
      try {
        answer = await send(replica.endpoint);
      } catch (error) {
        primed?.(false);
        done();
        throw error;
      }
      primed?.(answer.kind !== 'error' && answer.status >= 200 && answer.status < 300);
      this.#learn(replica, answer, signal);
      if (endsNow(answer, done)) done();
      if (!refused(answer)) return answer;
      index = this.#choose(routingKey);
      if (tried.has(index)) return answer;
    }
  }

  /**
   * Waits for the first call of `key` in flight to `replica`, unless the replica has answered the
   * key lately; or makes this call that first one, answering what to call when it ends.
   */
  async #prime(replica: Replica, key: string, signal: AbortSignal): Promise<((answered: boolean) => void) | undefined> {
    if (replica.primed.has(key)) return undefined;
    const first = replica.priming.get(key);
    if (first !== undefined) {
      await untilSettledOrAborted(first, signal);
      return undefined;
    }
    let settle!: () => void;
    replica.priming.set(key, new Promise<void>((resolve) => (settle = resolve)));
    return (answered) => {
      replica.priming.delete(key);
      if (answered) {
        if (replica.primed.size >= PRIMED_KEYS) replica.primed.delete(replica.primed.keys().next().value!);
        replica.primed.set(key, true);
      }
      settle();
    };
  }

  #choose(routingKey: string | undefined): number {
    if (this.#replicas.length === 1) return 0;
    return chooseReplica(this.#ring, routingKey, this.#loads, this.#up(), EPSILON, this.#turn++);
  }

  #up(): boolean[] {
    const now = this.#now();
    return this.#replicas.map((replica) => replica.downUntil <= now);
  }

  #learn(replica: Replica, answer: Exchange | OpenStream, signal: AbortSignal): void {
    this.#last = replica;
    if (!failed(answer, signal)) {
      if (answer.kind !== 'error') replica.strikes = 0;
      return;
    }
    replica.failures++;
    replica.strikes++;
    replica.downUntil = this.#now() + Math.min(LONGEST_EJECTION_MS, FIRST_EJECTION_MS * 2 ** (replica.strikes - 1));
  }
}
