import type { ServerResponse } from 'node:http';
import type { BatchRecord, BatchesStore, ResultsFile } from '../store/store.js';

/** Bytes per read of a results file; a response holds one buffer of this size. */
const FILE_CHUNK_BYTES = 1024 * 1024;

/**
 * The stored results of an ended batch as the store reads them, failing once read if the batch
 * was deleted or archived meanwhile: its rows may have been purged half way through, and a short
 * body that ends cleanly would pass for the whole. The failure cuts the response off, so the
 * client sees an interrupted body.
 */
export async function* wholeResults(pages: AsyncIterable<Buffer>, store: BatchesStore, batch: BatchRecord): AsyncGenerator<Buffer> {
  yield* pages;
  await stillServed(store, batch);
}

/**
 * Writes a batch's results file as the body of `response`, whose headers give its length: read
 * into one buffer, written, and read into again only once that write has gone to the socket, so a
 * body of any size allocates one buffer and leaves no garbage, and a reader that stops reading
 * stops it with that buffer held. It does not read ahead: measured on loopback, a writer that
 * keeps ahead of its reader moves the kernel's delivery of the bytes onto the reader's CPU time.
 * Before the last bytes go, the batch is looked up again: if it was deleted or archived meanwhile,
 * this throws with the body short, as `wholeResults` does. Once `signal` aborts (the reader
 * went), it stops and leaves the response as it is.
 */
export async function writeResultsFile(file: ResultsFile, response: ServerResponse, signal: AbortSignal, store: BatchesStore, batch: BatchRecord): Promise<void> {
  const buffer = Buffer.allocUnsafeSlow(FILE_CHUNK_BYTES);
  let sent = 0;
  while (sent < file.size) {
    const want = Math.min(FILE_CHUNK_BYTES, file.size - sent);
    const bytes = await file.read(want === FILE_CHUNK_BYTES ? buffer : buffer.subarray(0, want));
    if (bytes === 0) throw new Error(`The results file of batch ${batch.id} ended after ${sent} of ${file.size} bytes.`);
    sent += bytes;
    if (sent === file.size) await stillServed(store, batch);
    if (signal.aborted) return;
    if (!(await written(response, bytes === FILE_CHUNK_BYTES ? buffer : buffer.subarray(0, bytes), signal))) return;
  }
  response.end();
}

/** Writes `chunk`; resolves true once the socket has taken all of it, false if the write failed or the stream was stopped. */
function written(response: ServerResponse, chunk: Buffer, signal: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    const done = (error?: Error | null) => {
      signal.removeEventListener('abort', stopped);
      resolve(!error && !signal.aborted);
    };
    const stopped = () => done();
    signal.addEventListener('abort', stopped);
    response.write(chunk, done);
  });
}

async function stillServed(store: BatchesStore, batch: BatchRecord): Promise<void> {
  const current = await store.getBatch(batch.workspaceId, batch.id);
  if (!current || current.archivedAt !== null) throw new Error(`Batch ${batch.id} was deleted or archived while its results were read.`);
}
