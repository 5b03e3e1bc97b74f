import pg from 'pg';

/** The channel notified when requests become runnable: a batch created, requests requeued. */
export const WORK_CHANNEL = 'batchd_work';

const FIRST_RETRY_MS = 100;
const MAX_RETRY_MS = 5000;

/**
 * Calls its listeners whenever work may have arrived from any process: on each NOTIFY of
 * {@link WORK_CHANNEL}, and once after each (re)connection, since notifications sent while it
 * was not listening are lost. It LISTENs on a dedicated connection, opened with the first
 * listener and kept until {@link close}; a dropped connection is reopened with backoff.
 */
export class WorkListener {
  private readonly listeners = new Set<() => void>();
  private client: pg.Client | null = null;
  private started = false;
  private closed = false;
  private retryMs = FIRST_RETRY_MS;
  private retryTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly config: pg.ClientConfig,
    private readonly onError: (error: Error) => void,
  ) {}

  /** Adds `listener`; returns a function that removes it. */
  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    if (!this.started) {
      this.started = true;
      void this.connect();
    }
    return () => {
      this.listeners.delete(listener);
    };
  }

  /** Stops listening and closes the connection. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    const client = this.client;
    this.client = null;
    await client?.end();
  }

  private async connect(): Promise<void> {
    if (this.closed) return;
    const client = new pg.Client(this.config);
    client.on('error', (error) => this.onError(error));
    client.on('notification', () => this.wake());
    try {
      await client.connect();
      await client.query(`LISTEN ${WORK_CHANNEL}`);
    } catch (error) {
      this.onError(error instanceof Error ? error : new Error(String(error)));
      await client.end().catch(() => undefined);
      this.retry();
      return;
    }
    if (this.closed) {
      await client.end();
      return;
    }
    client.once('end', () => {
      if (this.client !== client) return;
      this.client = null;
      this.retry();
    });
    this.client = client;
    this.retryMs = FIRST_RETRY_MS;
    this.wake();
  }

  private retry(): void {
    if (this.closed) return;
    this.retryTimer = setTimeout(() => void this.connect(), this.retryMs);
    this.retryTimer.unref();
    this.retryMs = Math.min(this.retryMs * 2, MAX_RETRY_MS);
  }

  private wake(): void {
    for (const listener of this.listeners) {
      try {
        listener();
      } catch (error) {
        this.onError(error instanceof Error ? error : new Error(String(error)));
      }
    }
  }
}
