/**
 * Bytes of params (as stored JSON text) the engine parses and sends at once: a request waits,
 * first come first served, until its params fit beside those already taken; one alone always
 * fits. It bounds the memory of parsed params however large or many-valued each request is.
 */
export class ParamsBudget {
  private used = 0;
  private readonly waiting: Array<{ bytes: number; grant: () => void }> = [];

  constructor(private readonly maxBytes: number) {}

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
      this.waiting.shift();
      this.used += next.bytes;
      next.grant();
    }
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
