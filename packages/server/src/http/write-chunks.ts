import type { ServerResponse } from 'node:http';

/**
 * Writes each chunk of `chunks` to `response` with one write as it comes, and ends the response
 * after the last. Whenever the response holds more than its high-water mark, it waits for it to
 * drain before taking the next chunk: a reader that stops reading stops the stream there, with one
 * chunk held. Once `signal` aborts (the reader went, the stream was cut), it stops taking chunks
 * and leaves the response as it is; an error of `chunks` is thrown as it is.
 */
export async function writeChunks(chunks: AsyncIterable<Buffer>, response: ServerResponse, signal: AbortSignal): Promise<void> {
  for await (const chunk of chunks) {
    if (signal.aborted) return;
    if (!response.write(chunk)) await drained(response, signal);
    if (signal.aborted) return;
  }
  if (!signal.aborted) response.end();
}

function drained(response: ServerResponse, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      response.off('drain', done);
      response.off('close', done);
      signal.removeEventListener('abort', done);
      resolve();
    };
    response.on('drain', done);
    response.on('close', done);
    signal.addEventListener('abort', done);
  });
}
