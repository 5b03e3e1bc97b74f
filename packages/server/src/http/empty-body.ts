import { isUtf8 } from 'node:buffer';
import type { FastifyInstance } from 'fastify';
import { PARAMS_SHAPE, pastShape, shapeError } from '../json.js';
import { invalidRequest } from './api-error.js';

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
  // A chunked JSON body that turns out empty parses as none; bytes that are not UTF-8 are
  // refused, not replaced, so what is stored is what was sent.
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
    const bytes = body as Buffer;
    if (bytes.length === 0) done(null, undefined);
    else if (!isUtf8(bytes)) done(invalidRequest('The request body is not valid JSON: it is not UTF-8 text.'), undefined);
    else parseBounded(request, bytes.toString('utf8'), done);
  });
  // A body of 1 MiB of brackets, within fastify's body limit, takes JSON.parse a quarter of a second: its shape is read first.
  const parseBounded: typeof parseJson = (request, text, done) => {
    const past = pastShape(text as string, PARAMS_SHAPE);
    if (past === undefined) parseJson(request, text, done);
    else done(invalidRequest(shapeError(past, 'The request body', PARAMS_SHAPE)), undefined);
  };
}
