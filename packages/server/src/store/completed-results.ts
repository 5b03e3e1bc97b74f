/**
 * Results of a batch read while it runs. Every request gets a completion sequence number when it
 * reaches its final state (a result written, or canceled or expired in bulk); within one batch
 * the numbers follow the order in which those writes commit, so a reader that remembers the last
 * number it read misses nothing by asking for the ones after it.
 */

/** Result lines (framed like `readResults`) and the completion number of the last of them. */
export interface CompletedPage {
  lines: Buffer;
  lastSeq: number;
}

export interface CompletedResultsStore {
  /**
   * Result lines of the batch's requests that ended after completion `afterSeq` (0: all that
   * have a number), in completion order, in pages of at most `pageSize` lines. Requests of a
   * batch that had ended before the numbering existed have none: read those with `readResults`.
   */
  readCompletedResults(batchId: string, afterSeq: number, pageSize: number): AsyncIterable<CompletedPage>;
  /**
   * Calls `listener` after each write of this process that may have ended requests (results,
   * cancels, expiry). Writes by other processes sharing the store are not signalled: readers
   * poll for those. Returns a function that removes the listener.
   */
  subscribeCompletions(listener: () => void): () => void;
}

/** The listeners of `subscribeCompletions`, called after each write that ended requests. */
export class CompletionSignal {
  private readonly listeners = new Set<() => void>();

  subscribe(listener: () => void): () => void {
    const entry = () => listener();
    this.listeners.add(entry);
    return () => this.listeners.delete(entry);
  }

  notify(): void {
    for (const listener of this.listeners) listener();
  }
}
