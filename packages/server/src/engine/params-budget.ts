/**
 * Bytes of params (as stored JSON text) the engine parses and sends at once: a request waits,
 * first come first served, until its params fit beside those already taken; one alone always
 * fits. It bounds the memory of parsed params however large or many-valued each request is.
 *
 * It also spreads the parsing over turns of the event loop: once `turnBytes` have been let
 * through in one turn, the next request waits for the next turn, so requests admitted together
 * (a claim, or one giving its budget back) never parse more than that between two turns in which
 * the API answers; one alone always goes, on a turn of its own when it is larger.
 */
export class ParamsBudget {
  private used = 0;
  private readonly waiting: Array<{ bytes: number; grant: () => void }> = [];
  /** Bytes let through since the turn began; a new turn starts at the next `setImmediate`. */
  private turnUsed = 0;

  constructor(
    private readonly maxBytes: number,
    private readonly turnBytes = Number.POSITIVE_INFINITY,
  ) {}

  /** Bytes taken and not given back. */
  get taken(): number {
    return this.used;
  }

  /** Callers waiting for their bytes to fit. */
  get queued(): number {
    return this.waiting.length;
  }

  /** Resolves once `bytes` fit, with the function that gives them back. */
  take(bytes: number): Promise<() => void> {
    return new Promise((resolve) => {
      this.waiting.push({ bytes, grant: () => resolve(this.giveBack(bytes)) });
      this.admit();
    });
  }

  private admit(): void {
    for (let next = this.waiting[0]; next !== undefined; next = this.waiting[0]) {
      if (this.used > 0 && this.used + next.bytes > this.maxBytes) return;
      if (this.turnUsed > 0 && this.turnUsed + next.bytes > this.turnBytes) return;
      if (this.turnUsed === 0) setImmediate(() => this.nextTurn());
      this.waiting.shift();
      this.used += next.bytes;
      this.turnUsed += next.bytes;
      next.grant();
    }
  }

  private nextTurn(): void {
    this.turnUsed = 0;
    this.admit();
  }

  private giveBack(bytes: number): () => void {
    let given = false;
    return () => {
      if (given) return;
      given = true;
      this.used -= bytes;
      this.admit();
    };
  }
}
