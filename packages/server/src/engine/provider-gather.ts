/**
 * Routed requests wait until this process's engine finds nothing more queued, or else (routed by
 * other processes) until none has arrived for this long, or the limits are reached: a batch being
 * routed goes as one provider batch.
 */
export const GATHER_QUIET_MS = 1000;
/**
 * While this process's engine says more is queued, the quiet spell it may leave between two
 * groups of routes: claims and writes on a loaded machine can take seconds apart.
 */
export const ROUTING_QUIET_MS = 10_000;
/** Routed requests that keep arriving are sent at the latest this long after the first of them. */
const MAX_MS = 30_000;

/** What this process's engine last said since the last open: nothing, more queued, or drained. */
type EngineWord = 'none' | 'more' | 'drained';

/**
 * When the requests routed to one provider-batch backend are gathered enough to open a provider
 * batch. Told the routed count at each turn, and by the engine each time it writes routes whether
 * it found more queued; times are epoch milliseconds.
 */
export class ProviderGather {
  private lastRouted = 0;
  private changedAt = 0;
  /** When the requests being gathered began arriving; 0 when none are. */
  private startedAt = 0;
  private word: EngineWord = 'none';

  constructor(private readonly maxRequests: number) {}

  /** The engine wrote routes: `drained` when its last claim found nothing more queued. */
  routed(drained: boolean): void {
    this.word = drained ? 'drained' : 'more';
  }

  /** With `routed` requests waiting: 'open' when a provider batch is due now, else when to look again (Infinity: nothing waits). */
  check(routed: number, now: number): 'open' | number {
    if (routed === 0) {
      [this.lastRouted, this.startedAt, this.word] = [0, 0, 'none'];
      return Number.POSITIVE_INFINITY;
    }
    if (routed !== this.lastRouted) [this.lastRouted, this.changedAt] = [routed, now];
    if (this.startedAt === 0) this.startedAt = now;
    const quiet = this.word === 'more' ? ROUTING_QUIET_MS : GATHER_QUIET_MS;
    const until = Math.min(this.changedAt + quiet, this.startedAt + MAX_MS);
    if (this.word !== 'drained' && now < until && routed < this.maxRequests) return until;
    [this.startedAt, this.word] = [0, 'none'];
    return 'open';
  }
}
