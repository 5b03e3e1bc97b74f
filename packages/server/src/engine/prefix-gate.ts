import type { BackendOutcome, ChatOutcome } from '../backends/backend.js';
import { isObject } from '../json.js';

/** A request's shared prefix as the gate sees it: its key and its estimated size in tokens. */
export interface PrefixRef {
  key: string;
  tokens: number;
}

/** The requests of one prefix waiting for a slot or running, and whether the prefix is cached by now. */
interface Group {
  tokens: number;
  waiting: number;
  running: number;
  /** A call of the group has run: the working set counts the group from then until it has nothing left. */
  admitted: boolean;
  /** A call of the group has answered: the provider has the prefix, the rest of the group may go. */
  primed: boolean;
  /** A request of the group has hit the cache. */
  hit: boolean;
}

/** A learned size starts at this many groups, and stops bounding after this many answers without a cache hit. */
const INITIAL_GROUPS = 2;
const PROBE_ANSWERS = 4;
/** After the first miss, each group's first hit grows the size by this share of the group; a miss shrinks it to this share of the working set. */
const STEADY_GROWTH = 1 / 16;
const SHRINK_ON_MISS = 0.75;

/** How a call of a group ended: not sent, failed, or answered with the prompt tokens read from the cache (undefined when the provider did not say). */
export type CallEnd = 'not-sent' | 'failed' | { cachedTokens: number | undefined };

const isPriming = (group: Group) => group.admitted && !group.primed && group.running > 0;

/** The prompt tokens a provider said it read from its cache, when it said. */
export function cachedTokensOf(outcome: BackendOutcome | ChatOutcome): number | undefined {
  if (outcome.kind === 'message') {
    const read = outcome.message.usage?.cache_read_input_tokens;
    return typeof read === 'number' ? read : undefined;
  }
  if (outcome.kind !== 'completion' || !isObject(outcome.completion.usage)) return undefined;
  const details: unknown = outcome.completion.usage.prompt_tokens_details;
  return isObject(details) && typeof details.cached_tokens === 'number' ? details.cached_tokens : undefined;
}

/**
 * Which requests sharing a prefix may take a backend slot. Priming: the first of a group goes
 * alone, the rest wait for its answer, so they read the cache entry it wrote instead of all
 * writing their own. Working set: a new group starts only while the groups already running fit
 * in the provider's prefix cache: `capacityTokens` when configured; else, with `learn`, a size
 * learned as TCP learns a window: it starts at two groups and grows by about one group per round
 * of the working set (each group's first hit adds its share) until a request that should have hit
 * misses; it then shrinks to three quarters of the working set and grows slowly. A provider that answers without a hit at first (no cache, or no
 * `cached_tokens`) leaves it unbounded.
 */
export class PrefixGate {
  private readonly groups = new Map<string, Group>();
  /** Tokens of the groups in the working set. */
  private setTokens = 0;
  private capacity: number | undefined;
  private learning: 'off' | 'slow-start' | 'steady';
  private hits = 0;
  private coldAnswers = 0;
  /** Requests with a prefix waiting for a slot. */
  private waitingCount = 0;
  /** Groups whose first call is out and unanswered. */
  private priming = 0;

  constructor(options: { capacityTokens?: number; learn: boolean }) {
    this.capacity = options.capacityTokens;
    this.learning = options.capacityTokens === undefined && options.learn ? 'slow-start' : 'off';
  }

  /** The prefix cache size in use, configured or learned; undefined while unbounded. */
  get capacityTokens(): number | undefined {
    return this.capacity;
  }

  /** Requests with a prefix waiting for a slot: with slots free, those the gate holds back. */
  get waiting(): number {
    return this.waitingCount;
  }

  /** A request of `prefix` starts waiting for a slot. */
  enqueue(prefix: PrefixRef): void {
    this.waitingCount++;
    const group = this.groups.get(prefix.key);
    if (group) group.waiting++;
    else this.groups.set(prefix.key, { tokens: prefix.tokens, waiting: 1, running: 0, admitted: false, primed: false, hit: false });
  }

  /** Whether `prefix`'s group is running and primed: its waiting requests may go now. */
  warm(prefix: PrefixRef): boolean {
    const group = this.groups.get(prefix.key)!;
    return group.admitted && group.primed;
  }

  /** Whether a waiting request of `prefix` may take a free slot now. */
  admits(prefix: PrefixRef): boolean {
    const group = this.groups.get(prefix.key)!;
    // A group whose first call was not sent (or threw) sends another first.
    if (group.admitted) return group.primed || group.running === 0;
    if (this.learning === 'off') return this.capacity === undefined || this.setTokens === 0 || this.setTokens + group.tokens <= this.capacity;
    // While the size is learned, groups start one after another: an LRU cache one group too small
    // then evicts a group that has sent its requests, not each group that is about to.
    const capacity = this.capacity ?? INITIAL_GROUPS * group.tokens;
    return this.priming === 0 && (this.setTokens === 0 || this.setTokens + group.tokens <= capacity);
  }

  /** A waiting request of `prefix` takes a slot. */
  start(prefix: PrefixRef): void {
    const group = this.groups.get(prefix.key)!;
    const wasPriming = isPriming(group);
    this.waitingCount--;
    group.waiting--;
    group.running++;
    if (group.admitted) return this.countPriming(group, wasPriming);
    group.admitted = true;
    this.countPriming(group, wasPriming);
    this.setTokens += group.tokens;
    if (this.capacity === undefined && this.learning !== 'off') this.capacity = INITIAL_GROUPS * group.tokens;
  }

  /** A call of `prefix` ended as `end` says; an answer or a failure primes its group. */
  finish(prefix: PrefixRef, end: CallEnd): void {
    const group = this.groups.get(prefix.key)!;
    const wasPriming = isPriming(group);
    group.running--;
    if (end !== 'not-sent') {
      // A group that has hit and now misses lost its entry: its next request goes first again.
      const lost = group.primed && end !== 'failed' && this.learn(group, end.cachedTokens) === 'miss' && group.hit;
      group.primed = !lost;
    }
    this.countPriming(group, wasPriming);
    if (group.running > 0 || group.waiting > 0) return;
    this.groups.delete(prefix.key);
    if (group.admitted) this.setTokens -= group.tokens;
  }

  private countPriming(group: Group, wasPriming: boolean): void {
    this.priming += Number(isPriming(group)) - Number(wasPriming);
  }

  /** Learns from the answer to a request whose group was primed when it was sent; says whether it hit. */
  private learn(group: Group, cachedTokens: number | undefined): 'hit' | 'miss' | 'unknown' {
    if (cachedTokens === undefined) {
      this.coldAnswer();
      return 'unknown';
    }
    const hit = cachedTokens >= group.tokens / 2;
    const firstHit = hit && !group.hit;
    if (hit) {
      this.hits++;
      group.hit = true;
    }
    if (this.learning === 'off') return hit ? 'hit' : 'miss';
    if (firstHit) {
      // About one group more per round of the working set at first, a sixteenth of one later.
      this.capacity! += group.tokens * (this.learning === 'slow-start' ? group.tokens / Math.max(group.tokens, this.setTokens) : STEADY_GROWTH);
    } else if (!hit && this.hits > 0) {
      this.capacity = Math.max(group.tokens, Math.min(this.capacity!, this.setTokens * SHRINK_ON_MISS));
      this.learning = 'steady';
    } else if (!hit) {
      this.coldAnswer();
    }
    return hit ? 'hit' : 'miss';
  }

  /** An answer without a hit before any hit: after a few, the provider is taken not to cache (or not to say), and the size stops bounding. */
  private coldAnswer(): void {
    if (this.learning === 'off' || this.hits > 0 || ++this.coldAnswers < PROBE_ANSWERS) return;
    this.learning = 'off';
    this.capacity = undefined;
  }
}
