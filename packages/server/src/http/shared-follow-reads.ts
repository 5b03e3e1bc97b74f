import type { CompletedPage } from '../store/completed-results.js';
import type { BatchRecord, BatchesStore } from '../store/store.js';

/** Longest time between two wake-ups of the follow streams when the store has written results. */
const MAX_INTERVAL_MS = 1_000;
/** Most bytes of results kept after their read for the rest of an interval; reads past it are shared only while running. */
const MAX_RETAINED_BYTES = 8 * 1024 * 1024;

interface SharedRead {
  read: Promise<unknown>;
  /** Bytes counted against `MAX_RETAINED_BYTES` while the read is kept. */
  bytes: number;
}

/**
 * What the follow streams open on this node share, so that many followers cost about what one
 * does: the store's completion signals reach them all together, at most once an interval of
 * `perFollowerMs` for each stream open (up to a second: with many streams, each is written to
 * less often, so the writes a second stay bounded), and followers asking for the same batch, or
 * for the same page of its results after the same point, within one interval are answered by one
 * read. A shared read may be up to an interval old: a follower that finds its batch ended reads
 * its last pages after the read that saw the end, shared only with the others that saw it.
 */
export class SharedFollowReads {
  private readonly reads = new Map<string, SharedRead>();
  private retained = 0;
  private readonly listeners = new Set<() => void>();
  private unsubscribe: (() => void) | null = null;
  private timer: NodeJS.Timeout | null = null;
  private lastTick = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly store: BatchesStore,
    private readonly perFollowerMs: number,
  ) {}

  /** Bytes of results read and kept for other followers. */
  get retainedBytes(): number {
    return this.retained;
  }

  /** The time between two wake-ups now. */
  get intervalMs(): number {
    return Math.min(MAX_INTERVAL_MS, this.listeners.size * this.perFollowerMs);
  }

  /** Calls `listener` after writes that may have ended requests, as `subscribeCompletions` does, batched in time. */
  subscribe(listener: () => void): () => void {
    const entry = () => listener();
    this.listeners.add(entry);
    this.unsubscribe ??= this.store.subscribeCompletions(() => this.schedule());
    return () => {
      this.listeners.delete(entry);
      if (this.listeners.size > 0) return;
      this.unsubscribe?.();
      this.unsubscribe = null;
      if (this.timer) clearTimeout(this.timer);
      this.timer = null;
    };
  }

  getBatch(workspaceId: string, batchId: string): Promise<BatchRecord | null> {
    return this.shared(`batch ${workspaceId} ${batchId}`, () => this.store.getBatch(workspaceId, batchId));
  }

  /**
   * The pages of results after `afterSeq`, each page read once for every follower at that point.
   * `ended`: the caller saw the batch ended before asking, so every read made from now on holds
   * all its results; those reads are shared only among callers that saw the end.
   */
  async *pagesAfter(batchId: string, afterSeq: number, pageSize: number, ended = false): AsyncGenerator<CompletedPage> {
    let after = afterSeq;
    for (;;) {
      const key = `${ended ? 'final page' : 'page'} ${batchId} ${after} ${pageSize}`;
      const page = await this.shared(key, () => firstPage(this.store, batchId, after, pageSize), (read) => read?.lines.length ?? 0);
      if (page === null) return;
      after = page.lastSeq;
      yield page;
    }
  }

  private schedule(): void {
    if (this.timer) return;
    const wait = Math.max(0, this.lastTick + this.intervalMs - performance.now());
    this.timer = setTimeout(() => {
      this.timer = null;
      this.lastTick = performance.now();
      // Reads made before these writes may miss their results.
      this.reads.clear();
      this.retained = 0;
      for (const listener of [...this.listeners]) listener();
    }, wait);
  }

  /**
   * One read for every caller asking for `key` while it runs and, within the byte bound, for the
   * rest of the interval (a follower catching up on a large batch reads pages kept by no one).
   */
  private shared<T>(key: string, read: () => Promise<T>, bytesOf: (value: T) => number = () => 0): Promise<T> {
    const known = this.reads.get(key);
    if (known) return known.read as Promise<T>;
    const entry: SharedRead = { read: read(), bytes: 0 };
    this.reads.set(key, entry);
    const forget = () => {
      if (this.reads.get(key) !== entry) return;
      this.reads.delete(key);
      this.retained -= entry.bytes;
    };
    (entry.read as Promise<T>).then((value) => {
      const bytes = bytesOf(value);
      if (this.retained + bytes > MAX_RETAINED_BYTES) return forget();
      entry.bytes = bytes;
      this.retained += bytes;
      setTimeout(forget, this.intervalMs).unref();
    }, forget);
    return entry.read as Promise<T>;
  }
}

async function firstPage(store: BatchesStore, batchId: string, afterSeq: number, pageSize: number): Promise<CompletedPage | null> {
  for await (const page of store.readCompletedResults(batchId, afterSeq, pageSize)) return page;
  return null;
}
