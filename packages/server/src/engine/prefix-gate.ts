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
}

/** A learned size grows by this share of a group's tokens per hit, and shrinks to this share of the working set on a miss. */
const GROWTH_PER_HIT = 1 / 64;
const SHRINK_ON_MISS = 0.75;

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
 * in the provider's prefix cache, `capacityTokens` when configured, else learned: it starts
 * unbounded, shrinks when a group that should be cached misses (once the provider has shown that
 * it caches at all), and grows slowly with each hit.
 */
export class PrefixGate {
  private readonly groups = new Map<string, Group>();
  /** Tokens of the groups in the working set. */
  private setTokens = 0;
  private capacity: number | undefined;
  private readonly learns: boolean;
  private hits = 0;

  constructor(capacityTokens?: number) {
    this.capacity = capacityTokens;
    this.learns = capacityTokens === undefined;
  }

  /** The prefix cache size in use, configured or learned; undefined while unbounded. */
  get capacityTokens(): number | undefined {
    return this.capacity;
  }

  /** A request of `prefix` starts waiting for a slot. */
  enqueue(prefix: PrefixRef): void {
    const group = this.groups.get(prefix.key);
    if (group) group.waiting++;
    else this.groups.set(prefix.key, { tokens: prefix.tokens, waiting: 1, running: 0, admitted: false, primed: false });
  }

  /** Whether a waiting request of `prefix` may take a free slot now. */
  admits(prefix: PrefixRef): boolean {
    const group = this.groups.get(prefix.key)!;
    if (group.admitted) return group.primed;
    return this.capacity === undefined || this.setTokens === 0 || this.setTokens + group.tokens <= this.capacity;
  }

  /** A waiting request of `prefix` takes a slot. */
  start(prefix: PrefixRef): void {
    const group = this.groups.get(prefix.key)!;
    group.waiting--;
    group.running++;
    if (group.admitted) return;
    group.admitted = true;
    this.setTokens += group.tokens;
  }

  /**
   * A call of `prefix` ended: answered (the provider saw the prefix; `cachedTokens` is what it
   * read from its cache, when it said) or not made at all.
   */
  finish(prefix: PrefixRef, answered: boolean, cachedTokens?: number): void {
    const group = this.groups.get(prefix.key)!;
    group.running--;
    if (answered) {
      if (group.primed && cachedTokens !== undefined) this.learn(group, cachedTokens);
      group.primed = true;
    }
    if (group.running > 0 || group.waiting > 0) return;
    this.groups.delete(prefix.key);
    if (group.admitted) this.setTokens -= group.tokens;
  }

  private learn(group: Group, cachedTokens: number): void {
    const hit = cachedTokens >= group.tokens / 2;
    if (hit) this.hits++;
    if (!this.learns) return;
    if (hit) {
      if (this.capacity !== undefined) this.capacity += group.tokens * GROWTH_PER_HIT;
    } else if (this.hits > 0) {
      this.capacity = Math.max(group.tokens, Math.min(this.capacity ?? Infinity, this.setTokens * SHRINK_ON_MISS));
    }
  }
}
