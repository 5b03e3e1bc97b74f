import { readdirSync, rmSync } from 'node:fs';
import { mkdir, open, rename, rm, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { ResultsFile } from '../store.js';
import type { SqliteDatabase } from './sqlite-database.js';

export interface ResultsFilesOptions {
  /** Directory of the files; created when the first one is written. */
  dir: string;
  /** Batches with fewer requests are served from the database alone. */
  minRequests: number;
  /**
   * Free disk a file may not take (`--min-free-disk-mb`): a file is a second copy of its batch's
   * results, and the space is kept for the writes of running batches. `diskFree` reads what the
   * disk has; a write that finds less than `bytes` stops, and its batch stays served from the database.
   */
  keepFree?: { bytes: number; diskFree: () => Promise<number> };
}

/** Reads a batch's result lines from the database, in pages. */
export type ResultPages = (seq: number, pageSize: number) => Iterable<Buffer>;

/** Lines per page read from the database while a file is written: about 0.7 MB of results. */
const WRITE_PAGE_LINES = 256;
/** Bytes per chunk read from a file while it is served. */
const READ_CHUNK_BYTES = 1024 * 1024;
/** Bytes written to a file between two looks at the disk's free space. */
const FREE_CHECK_BYTES = 64 * 1024 * 1024;

/**
 * The results of large ended Messages batches, written once to a JSONL file each so they are
 * served at the speed of a file read, without decoding rows. The database stays the source of
 * truth: a file is written to a temporary name, synced, then renamed, so a file present under its
 * batch's name is whole; `results_filed` records that the batch was looked at (file written, or
 * too small to need one). A file that could not be written leaves its batch served from the
 * database. Files of purged batches are removed with their rows, and on open if a stop came between.
 */
export class SqliteResultsFiles {
  private readonly pending;
  private readonly markFiled;
  private readonly markSmallFiled;
  private readonly served;

  constructor(
    db: SqliteDatabase,
    private readonly options: ResultsFilesOptions,
    private readonly pages: ResultPages,
  ) {
    const ended = `results_filed = 0 AND status = 'ended' AND archived_at IS NULL`;
    const requests = `(succeeded + errored + canceled + expired)`;
    this.pending = db.prepare(`SELECT seq, id FROM batches INDEXED BY batches_unfiled WHERE ${ended} AND dialect = 'messages' AND ${requests} >= ? ORDER BY seq LIMIT ?`);
    this.markFiled = db.prepare('UPDATE batches SET results_filed = 1 WHERE seq = ?');
    this.served = db.prepare(`SELECT 1 FROM batches WHERE id = ? AND status <> 'deleted' AND archived_at IS NULL`).pluck();
    this.markSmallFiled = db.prepare(`UPDATE batches SET results_filed = 1 WHERE seq IN (SELECT seq FROM batches INDEXED BY batches_unfiled WHERE ${ended} AND (dialect <> 'messages' OR ${requests} < ?))`);
  }

  private path(batchId: string): string {
    return join(this.options.dir, `${batchId}.jsonl`);
  }

  /** The batch's file, open, or null when the batch has none. */
  async open(batchId: string): Promise<ResultsFile | null> {
    let file: FileHandle;
    try {
      file = await open(this.path(batchId), 'r');
    } catch (error) {
      // Batches too small for a file, and those whose file could not be written.
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') return null;
      throw error;
    }
    try {
      const { size } = await file.stat();
      return { size, read: async (into) => (await file.read(into, 0, into.length, null)).bytesRead, close: () => file.close() };
    } catch (error) {
      await file.close();
      throw error;
    }
  }

  /** The file's bytes in chunks, or null when the batch has none. */
  async chunks(batchId: string): Promise<AsyncIterable<Buffer> | null> {
    const file = await this.open(batchId);
    return file && chunksOf(file);
  }

  /**
   * Writes the files of up to `limit` large batches that ended since the last call, and marks
   * the small ones as needing none. Returns how many batches it looked at.
   */
  async fileEnded(limit: number, onFailure: (batchId: string, error: unknown) => void): Promise<number> {
    const marked = this.markSmallFiled.run(this.options.minRequests).changes;
    const batches = this.pending.all(this.options.minRequests, limit) as Array<{ seq: number; id: string }>;
    for (const batch of batches) {
      try {
        await this.write(batch.seq, batch.id);
      } catch (error) {
        onFailure(batch.id, error);
      }
      this.markFiled.run(batch.seq);
    }
    return marked + batches.length;
  }

  private async write(seq: number, batchId: string): Promise<void> {
    await mkdir(this.options.dir, { recursive: true });
    const path = this.path(batchId);
    const temporary = `${path}.tmp`;
    const file = await open(temporary, 'w');
    try {
      try {
        // Each page is read synchronously; awaiting its write lets the API answer between pages.
        let unchecked = 0;
        await this.checkFree();
        for (const page of this.pages(seq, WRITE_PAGE_LINES)) {
          await file.write(page);
          unchecked += page.length;
          if (unchecked >= FREE_CHECK_BYTES) {
            unchecked = 0;
            await this.checkFree();
          }
        }
        await file.sync();
      } finally {
        await file.close();
      }
      await rename(temporary, path);
    } catch (error) {
      await rm(temporary, { force: true });
      throw error;
    }
  }

  /** Throws when the disk has less free than the space kept for running batches. */
  private async checkFree(): Promise<void> {
    const keep = this.options.keepFree;
    if (!keep) return;
    const free = await keep.diskFree();
    if (free < keep.bytes) throw new Error(`the disk has ${free} bytes free, under the ${keep.bytes} kept for running batches (--min-free-disk-mb)`);
  }

  /** Removes the files of these batches, if they have any. */
  async remove(batchIds: string[]): Promise<void> {
    await Promise.all(batchIds.map((id) => rm(this.path(id), { force: true })));
  }

  /**
   * Removes the files a stopped process left behind: half written ones, and those of batches
   * deleted, archived or gone (a process stopped between purging a batch's rows and removing its
   * file), whose contents must not outlive them.
   */
  discardLeftovers(): void {
    let names: string[];
    try {
      names = readdirSync(this.options.dir);
    } catch {
      return;
    }
    for (const name of names) {
      const orphan = name.endsWith('.jsonl') && this.served.get(name.slice(0, -'.jsonl'.length)) === undefined;
      if (orphan || name.endsWith('.tmp')) rmSync(join(this.options.dir, name), { force: true });
    }
  }
}

/** A file's bytes in chunks of `READ_CHUNK_BYTES`, each read into a buffer of its own; the file is closed at the end. */
async function* chunksOf(file: ResultsFile): AsyncGenerator<Buffer> {
  try {
    for (;;) {
      const chunk = Buffer.allocUnsafeSlow(READ_CHUNK_BYTES);
      const bytesRead = await file.read(chunk);
      if (bytesRead === 0) return;
      yield bytesRead === READ_CHUNK_BYTES ? chunk : chunk.subarray(0, bytesRead);
    }
  } finally {
    await file.close();
  }
}
