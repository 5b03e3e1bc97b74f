import type { Readable } from 'node:stream';

/**
 * Reads and discards what is left of a request body so the client, still sending, can read the
 * error answer; a body that keeps going past `capBytes`, or stalls for `idleMs`, gets its
 * connection closed instead.
 */
export function drainBody(body: Readable, capBytes: number, idleMs: number): Promise<void> {
  if (body.readableEnded || body.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    let bytes = 0;
    let idle = setTimeout(giveUp, idleMs);
    function finish() {
      clearTimeout(idle);
      body.removeListener('data', onData);
      resolve();
    }
    function giveUp() {
      body.destroy();
      finish();
    }
    function onData(chunk: Buffer) {
      bytes += chunk.length;
      clearTimeout(idle);
      if (bytes > capBytes) return giveUp();
      idle = setTimeout(giveUp, idleMs);
    }
    // The parser read through an async iterator, whose 'readable' listener would keep the
    // stream from flowing.
    body.removeAllListeners('readable');
    body.on('data', onData);
    body.once('end', finish);
    body.once('error', finish);
    body.once('close', finish);
    body.resume();
  });
}
