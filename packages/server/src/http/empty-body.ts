import type { FastifyInstance } from 'fastify';

/**
 * An empty request body is no body, whatever its content type: the official Python SDKs send
 * `Content-Type: application/json` with nothing after it on body-less POSTs and DELETEs (cancel,
 * delete), and routes that need a body then say which fields are missing.
 */
export function acceptEmptyBodies(app: FastifyInstance): void {
  // A body declared empty is not parsed, as when no content type is given.
  app.addHook('onRequest', async (request) => {
    if (request.headers['content-length'] === '0') delete request.headers['content-type'];
  });
  // A chunked JSON body that turns out empty parses as none.
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    if (body.length === 0) done(null, undefined);
    else parseJson(request, body as string, done);
  });
}
