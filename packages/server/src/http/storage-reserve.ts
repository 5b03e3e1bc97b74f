import type { FastifyReply } from 'fastify';
import { insufficientStorage } from './api-error.js';
import { closedDuring } from './closed-during.js';

/**
 * Free space kept for the work already accepted. A create or an upload stores about as many bytes
 * as its body (an OpenAI batch create, as many as its input file); each holds that many bytes of
 * the store's free space while it runs, and is answered 507 before it stores anything when the
 * free space, less what the writes in flight hold, would fall under the reserve. The reserve is
 * what running batches write their results into, and what deletes need to free space: a store
 * whose disk fills stops both (SQLite cannot even log a delete).
 *
 * `freeBytes` says what the store can still write; null when it cannot tell (PostgreSQL, whose
 * disk is its own server's), and then nothing is refused.
 */
export class StorageReserve {
  /** Bytes held by writes in flight on this node. */
  private held = 0;

  constructor(
    private readonly freeBytes: () => Promise<number | null>,
    private readonly reserveBytes: number,
  ) {}

  /** Holds `bytes` of free space for the write `reply` answers, until its response closes; 507 when there is no room for it. */
  async hold(reply: FastifyReply, bytes: number): Promise<void> {
    if (this.reserveBytes === 0) return;
    const { value: free, closed } = await closedDuring(reply, this.freeBytes());
    if (free === null || closed) return;
    if (free - this.held - bytes < this.reserveBytes) {
      throw insufficientStorage(
        'The server is short of storage (it keeps --min-free-disk-mb free for running batches) and accepts no new batches or files for now; deleting ended batches and files frees space.',
      );
    }
    this.held += bytes;
    reply.raw.once('close', () => (this.held -= bytes));
  }
}
