/**
 * Routed requests wait until this process's engine finds nothing more queued, or else (routed by
 * other processes) until none has arrived for this long, or the limits are reached: a batch being
 * routed goes as one provider batch.
 */
export const GATHER_QUIET_MS = 1000;
/** Routed requests that keep arriving are sent at the latest this long after the first of them. */
const MAX_MS = 30_000;

/**
 * When the requests routed to one provider-batch backend are gathered enough to open a provider
 * batch. Told the routed count at each turn, and by the engine when it has routed everything it
 * found queued; times are epoch milliseconds.
 */
export class ProviderGather {
  private lastRouted = 0;
  private changedAt = 0;
  /** When the requests being gathered began arriving; 0 when none are. */
  private startedAt = 0;
  /** Whether this process's engine has routed everything it found queued since the last open. */
  private drained = false;

  constructor(private readonly maxRequests: number) {}

  /** The engine wrote routes: `drained` when its last claim found nothing more queued. */
  routed(drained: boolean): void {
    this.drained = drained;
  }

  /** With `routed` requests waiting: 'open' when a provider batch is due now, else when to look again (Infinity: nothing waits). */
  check(routed: number, now: number): 'open' | number {
    if (routed === 0) {
      [this.lastRouted, this.startedAt, this.drained] = [0, 0, false];
      return Number.POSITIVE_INFINITY;
    }
    if (routed !== this.lastRouted) [this.lastRouted, this.changedAt] = [routed, now];
    if (this.startedAt === 0) this.startedAt = now;
    const until = Math.min(this.changedAt + GATHER_QUIET_MS, this.startedAt + MAX_MS);
    if (!this.drained && now < until && routed < this.maxRequests) return until;
    [this.startedAt, this.drained] = [0, false];
    return 'open';
  }
}
