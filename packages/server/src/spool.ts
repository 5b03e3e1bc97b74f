import { randomUUID } from 'node:crypto';
import { open, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Bytes per chunk read back from a spool file. */
const READ_CHUNK_BYTES = 1024 * 1024;
/** Chunks written at once while the next ones are made: making a chunk and writing one overlap. */
const WRITES_IN_FLIGHT = 4;

/**
 * Writes `chunks` to a temporary file as they arrive, then runs `work` with a way to read them
 * back (as often as it needs, each time from the start) and their length in bytes, and lets the
 * file go whether the writing, `work` or neither failed. Uses: an upload on PostgreSQL, so that
 * its transaction starts once it is whole (no pooled connection waits on a client); a provider
 * batch's body, so that it goes with its `content-length` and its limits are checked before the
 * provider is called. The file is as large as the caller's checked limit allows, at most. Its
 * name is removed as soon as it is opened, so the file has no name in the temporary directory and
 * the kernel frees it when the process lets it go, even on kill -9.
 */
export async function withSpooled<T>(chunks: AsyncIterable<Buffer>, work: (content: () => AsyncIterable<Buffer>, bytes: number) => Promise<T>): Promise<T> {
  const path = join(tmpdir(), `batchd-spool-${randomUUID()}`);
  const file = await open(path, 'wx+', 0o600);
  try {
    await unlink(path);
    let bytes = 0;
    const writes: Array<Promise<unknown>> = [];
    try {
      for await (const chunk of chunks) {
        const write = file.write(chunk, 0, chunk.length, bytes);
        // Awaited in turn below; a failure meanwhile is not an unhandled rejection.
        write.catch(() => undefined);
        writes.push(write);
        bytes += chunk.length;
        if (writes.length >= WRITES_IN_FLIGHT) await writes.shift();
      }
      for (const write of writes.splice(0)) await write;
    } finally {
      await Promise.allSettled(writes);
    }
    return await work(() => file.createReadStream({ start: 0, autoClose: false, highWaterMark: READ_CHUNK_BYTES }), bytes);
  } finally {
    await file.close();
  }
}
