import type { FastifyReply } from 'fastify';
import { rateLimitError } from './api-error.js';

/** Seconds a refused reader is told to wait: a results stream usually ends within seconds. */
const RETRY_AFTER_SECONDS = 1;

/**
 * The results streams open on this node (a batch's results, whole or partial, and OpenAI file
 * contents), at most `maxPerWorkspace` per workspace; more are answered 429. Each stream holds a
 * buffer until its reader takes it, and a reader that stops reading keeps it: the bound keeps
 * what readers that never read can hold, and the event loop time their reads take, in proportion
 * to one workspace's share. Follow streams have a bound of their own (`follow-streams.ts`).
 */
export class StreamSlots {
  private readonly openPerWorkspace = new Map<string, number>();

  constructor(private readonly maxPerWorkspace: number) {}

  /** Takes a place for the stream `reply` answers, freed when its response closes; 429 past the bound. */
  hold(reply: FastifyReply, workspace: string): void {
    const open = this.openPerWorkspace.get(workspace) ?? 0;
    if (open >= this.maxPerWorkspace) {
      throw rateLimitError(`This workspace already has ${this.maxPerWorkspace} results streams open on this server; try again once one has been read.`, RETRY_AFTER_SECONDS);
    }
    this.openPerWorkspace.set(workspace, open + 1);
    reply.raw.once('close', () => {
      const left = (this.openPerWorkspace.get(workspace) ?? 1) - 1;
      if (left === 0) this.openPerWorkspace.delete(workspace);
      else this.openPerWorkspace.set(workspace, left);
    });
  }

  /** Streams open for `workspace`. */
  openIn(workspace: string): number {
    return this.openPerWorkspace.get(workspace) ?? 0;
  }
}
