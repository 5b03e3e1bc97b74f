import type { BatchesStore } from '../../store/store.js';
import type { SharedFollowReads } from '../shared-follow-reads.js';

export interface FollowOptions {
  /** Lines per page read from the store. */
  pageSize: number;
  /** Keep streaming until the batch has ended; otherwise stop after the results written so far. */
  follow: boolean;
  /** Stops following at once (the client went away, the server is shutting down). */
  signal: AbortSignal;
  /** How often to look again when nothing signals new results (writes by other processes). */
  pollMs: number;
  /** Following: the signals and reads shared with the other followers on this node. */
  shared: SharedFollowReads;
}

/**
 * The result lines of a running batch, in the order its requests ended, each line once. Following,
 * it waits for more after each read, woken by this process's writes or by the poll, and stops
 * once the batch has ended and every result up to its end has been read: the batch is read
 * before its results, so results written between the two reads are never left behind. Its reads
 * are shared with the other followers; once it has ended, the last pages are read after the read
 * that saw it ended (shared only with followers that saw the end too).
 */
export async function* resultsSoFar(store: BatchesStore, workspaceId: string, batchId: string, options: FollowOptions): AsyncGenerator<Buffer> {
  const { pageSize, follow, signal, pollMs, shared } = options;
  let signalled = false;
  let wake: (() => void) | null = null;
  const unsubscribe = follow
    ? shared.subscribe(() => {
        signalled = true;
        wake?.();
      })
    : undefined;
  try {
    let after = 0;
    for (;;) {
      signalled = false;
      const batch = follow ? await shared.getBatch(workspaceId, batchId) : await store.getBatch(workspaceId, batchId);
      if (!batch) return;
      const ended = batch.status === 'ended';
      for await (const page of follow ? shared.pagesAfter(batchId, after, pageSize, ended) : store.readCompletedResults(batchId, after, pageSize)) {
        after = page.lastSeq;
        yield page.lines;
        if (signal.aborted) return;
      }
      if (!follow || ended || signal.aborted) return;
      if (!signalled) {
        await new Promise<void>((resolve) => {
          const done = () => {
            clearTimeout(timer);
            signal.removeEventListener('abort', done);
            wake = null;
            resolve();
          };
          // Never more often than the shared wake-ups: with many streams open, each looks less often.
          const timer = setTimeout(done, Math.max(pollMs, shared.intervalMs));
          signal.addEventListener('abort', done);
          wake = done;
        });
      }
      if (signal.aborted) return;
    }
  } finally {
    unsubscribe?.();
  }
}
