/** The source of time for the store, engine and maintenance loop; tests may supply their own. */
export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/** RFC 3339 with microseconds, as the Message Batches API writes timestamps. */
export function formatTimestamp(ms: number): string {
  return new Date(ms).toISOString().replace('Z', '000Z');
}
