import type { FastifyReply } from 'fastify';
import { rateLimitError } from './api-error.js';

/** Longest a reader waits for a place before it is answered 429. */
const WAIT_MS = 10_000;
/** Seconds a refused reader is told to wait. */
const RETRY_AFTER_SECONDS = 1;

interface Places {
  open: number;
  /** Readers waiting for a place, first come first served; each is handed the place a stream frees. */
  waiting: Array<() => void>;
}

/**
 * The results streams open on this node (a batch's results, whole or partial, and OpenAI file
 * contents), at most `maxPerWorkspace` per workspace. Each stream holds a buffer until its reader
 * takes it, and a reader that stops reading keeps it: the bound keeps what readers that never read
 * can hold, and the event loop time their reads take, to one workspace's share. A reader past the
 * bound waits for a place (most streams end within milliseconds), and is answered 429 if none
 * frees within {@link WAIT_MS}. Follow streams have a bound of their own (`follow-streams.ts`).
 */
export class StreamSlots {
  private readonly places = new Map<string, Places>();

  constructor(
    private readonly maxPerWorkspace: number,
    private readonly waitMs = WAIT_MS,
  ) {}

  /** Takes a place for the stream `reply` answers, freed when its response closes; waits for one past the bound, then 429. */
  async hold(reply: FastifyReply, workspace: string): Promise<void> {
    const places = this.places.get(workspace) ?? { open: 0, waiting: [] };
    this.places.set(workspace, places);
    if (places.open < this.maxPerWorkspace) places.open += 1;
    else await this.wait(reply, places);
    reply.raw.once('close', () => this.release(workspace, places));
  }

  /** Resolves once a stream hands this reader its place; rejects with 429 after the wait, or when the reader goes first. */
  private wait(reply: FastifyReply, places: Places): Promise<void> {
    return new Promise((resolve, reject) => {
      const leave = () => {
        clearTimeout(timer);
        reply.raw.off('close', gone);
        const at = places.waiting.indexOf(handed);
        if (at !== -1) places.waiting.splice(at, 1);
      };
      const handed = () => {
        leave();
        resolve();
      };
      const refuse = () => {
        leave();
        reject(rateLimitError(`This workspace already has ${this.maxPerWorkspace} results streams open on this server; try again once one has been read.`, RETRY_AFTER_SECONDS));
      };
      const gone = () => refuse();
      const timer = setTimeout(refuse, this.waitMs);
      places.waiting.push(handed);
      reply.raw.once('close', gone);
    });
  }

  private release(workspace: string, places: Places): void {
    const next = places.waiting.shift();
    if (next) return next();
    places.open -= 1;
    if (places.open === 0 && places.waiting.length === 0) this.places.delete(workspace);
  }
}
