import { randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Bytes per chunk read back from a spool file. */
const READ_CHUNK_BYTES = 1024 * 1024;

/**
 * Writes `chunks` to a temporary file as they arrive, then runs `work` with a way to read them
 * back, and removes the file whether the writing, `work` or neither failed. An upload is spooled
 * so that its transaction starts once it is whole: no pooled connection waits on a client.
 * The file is as large as the upload's checked limit allows, at most.
 */
export async function withSpooled<T>(chunks: AsyncIterable<Buffer>, work: (content: () => AsyncIterable<Buffer>) => Promise<T>): Promise<T> {
  const path = join(tmpdir(), `batchd-upload-${randomUUID()}`);
  try {
    const file = await open(path, 'wx', 0o600);
    try {
      for await (const chunk of chunks) await file.write(chunk);
    } finally {
      await file.close();
    }
    return await work(() => createReadStream(path, { highWaterMark: READ_CHUNK_BYTES }));
  } finally {
    await rm(path, { force: true });
  }
}
