import type { Logger } from 'pino';

/**
 * A periodic loop whose ticks never overlap and never throw: a tick asked for while one runs
 * is skipped, and a failed step (see {@link runStep}) is logged and tried again on the next tick.
 */
export class GuardedTick {
  private timer: NodeJS.Timeout | undefined;
  private ticking: Promise<void> | null = null;

  constructor(
    private readonly steps: () => Promise<void>,
    private readonly intervalMs: number,
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.tick(), this.intervalMs);
  }

  async tick(): Promise<void> {
    if (this.ticking) return;
    this.ticking = this.steps().finally(() => {
      this.ticking = null;
    });
    await this.ticking;
  }

  /** Stops ticking and waits for a tick under way. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.ticking;
  }
}

/** Runs one step of a tick: its answer, or undefined when it failed (logged as `failure`, with its name). */
export async function runStep<T>(logger: Logger, failure: string, name: string, work: () => Promise<T>): Promise<T | undefined> {
  try {
    return await work();
  } catch (error) {
    logger.error({ err: error, step: name }, failure);
    return undefined;
  }
}
