import type { FastifyRequest } from 'fastify';
import { rateLimitError } from './api-error.js';

/** How often an open follow stream checks that its key still opens its workspace. */
const KEY_CHECK_MS = 2_000;

/**
 * The follow streams open on this node. A workspace holds at most `maxPerWorkspace`
 * (more are answered 429); a stream is cut when its key stops opening its workspace (revoked:
 * within the authenticator's cache time plus a check interval), and every stream is cut when
 * the server closes.
 */
export class FollowStreams {
  private readonly openPerWorkspace = new Map<string, number>();
  private readonly cuts = new Set<() => void>();

  constructor(
    private readonly keyStillOpens: (request: FastifyRequest) => Promise<boolean>,
    private readonly maxPerWorkspace: number,
    private readonly checkMs = KEY_CHECK_MS,
  ) {}

  /**
   * Admits a stream of `workspace` whose `cut` ends it early, or throws 429 past the bound.
   * Returns the function to call once the stream has ended.
   */
  admit(request: FastifyRequest, workspace: string, cut: () => void): () => void {
    const open = this.openPerWorkspace.get(workspace) ?? 0;
    if (open >= this.maxPerWorkspace) {
      throw rateLimitError(`This workspace already has ${this.maxPerWorkspace} follow streams open; close one before opening another.`, 10);
    }
    this.openPerWorkspace.set(workspace, open + 1);
    this.cuts.add(cut);
    const timer = setInterval(() => {
      void this.keyStillOpens(request).then((opens) => {
        if (!opens) cut();
      });
    }, this.checkMs);
    timer.unref();
    return () => {
      clearInterval(timer);
      this.cuts.delete(cut);
      const left = (this.openPerWorkspace.get(workspace) ?? 1) - 1;
      if (left === 0) this.openPerWorkspace.delete(workspace);
      else this.openPerWorkspace.set(workspace, left);
    };
  }

  /** Cuts every open stream (the server is closing). */
  cutAll(): void {
    for (const cut of this.cuts) cut();
  }
}
