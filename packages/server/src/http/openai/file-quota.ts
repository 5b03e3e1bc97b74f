import type { FastifyReply } from 'fastify';
import type { FileStore } from '../../store/file-store.js';
import { invalidRequest } from '../api-error.js';
import { closedDuring } from '../closed-during.js';

/**
 * Each workspace's file storage, bounded as OpenAI bounds a project's: an upload is refused (400)
 * before it is read when the workspace's stored files, the uploads it has under way on this node
 * and this one's length (or the largest file, when the length is not sent) would pass `maxBytes`.
 * The disk is shared; the bound keeps one workspace from taking it all.
 */
export class FileQuota {
  /** Bytes of uploads under way on this node, per workspace. */
  private readonly uploading = new Map<string, number>();

  constructor(
    private readonly files: Pick<FileStore, 'storedBytes'>,
    private readonly maxBytes: number,
  ) {}

  /** Holds `bytes` of `workspace`'s storage for the upload `reply` answers, until its response closes; 400 past the bound. */
  async hold(reply: FastifyReply, workspace: string, bytes: number, now: number): Promise<void> {
    const { value: stored, closed } = await closedDuring(reply, this.files.storedBytes(workspace, now));
    if (closed) return;
    const uploading = this.uploading.get(workspace) ?? 0;
    if (stored + uploading + bytes > this.maxBytes) {
      throw invalidRequest(
        `This workspace's files take ${stored} bytes${uploading > 0 ? ` and its uploads under way ${uploading}` : ''}; this upload of up to ${bytes} bytes would pass its storage limit of ${this.maxBytes} bytes. Delete files it no longer needs.`,
      );
    }
    this.uploading.set(workspace, uploading + bytes);
    reply.raw.once('close', () => {
      const left = (this.uploading.get(workspace) ?? bytes) - bytes;
      if (left > 0) this.uploading.set(workspace, left);
      else this.uploading.delete(workspace);
    });
  }
}
