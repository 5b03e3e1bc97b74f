import type { FastifyInstance } from 'fastify';
import { uploadTimedOut } from './api-error.js';

/** An upload that sends nothing for this long is answered 408 and its connection closed. */
export const UPLOAD_IDLE_MS = 30_000;

/**
 * Bounds how long a client may take to send its request. A connection that sends nothing for
 * `idleMs` is closed; the timer stops once the handler runs (answers may take long, a model
 * call; bodies may not), and routes that read their body themselves restart it. Whatever the
 * pace, a body still arriving `timeoutMs` after its headers has its connection closed, failing
 * the handler that reads it with a 408, so nothing of it is stored.
 */
export function watchUploads(app: FastifyInstance, limits: { idleMs: number; timeoutMs: number }): void {
  const watched = new WeakSet<object>();
  app.addHook('onRequest', async (request) => {
    const body = request.raw;
    const socket = body.socket;
    if (!watched.has(socket)) {
      watched.add(socket);
      socket.on('timeout', () => socket.destroy());
    }
    socket.setTimeout(limits.idleMs);
    if (body.complete) return;
    const deadline = setTimeout(() => {
      if (!body.complete) body.destroy(uploadTimedOut(`The upload took longer than the upload timeout of ${limits.timeoutMs} ms.`));
    }, limits.timeoutMs);
    deadline.unref();
    const stop = () => clearTimeout(deadline);
    body.once('end', stop);
    body.once('close', stop);
  });
  app.addHook('preHandler', async (request) => {
    request.raw.socket.setTimeout(0);
  });
}
