import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { FastifyInstance } from 'fastify';
import { newRequestId } from '../ids.js';
import { ApiError, envelopeFor, invalidRequest } from './api-error.js';

/** 415: a body batchd cannot read as sent. */
const unsupportedBody = (message: string) => new ApiError(415, 'invalid_request_error', message);

/** The `charset` parameter of a Content-Type, lower-cased, or undefined. */
function charsetOf(contentType: string): string | undefined {
  const match = /;\s*charset\s*=\s*"?([^";\s]*)"?/i.exec(contentType);
  return match?.[1]?.toLowerCase();
}

/**
 * batchd reads bodies as sent, in UTF-8: a body declared compressed (a Content-Encoding other
 * than `identity`: 415; a Transfer-Encoding other than `chunked`: 400) or in another charset (415)
 * is refused before it is read, rather than read as if it were plain UTF-8 and stored as
 * something the client did not mean.
 */
export function refuseBodyEncodings(app: FastifyInstance): void {
  app.addHook('onRequest', async (request) => {
    const { headers } = request;
    const hasBody = headers['transfer-encoding'] !== undefined || (headers['content-length'] !== undefined && headers['content-length'] !== '0');
    if (!hasBody) return;
    // Node decodes `chunked` only and passes any other transfer coding's bytes on as the body.
    // Answered 400, not RFC 9112's 501: the SDKs retry a 5xx, and this request cannot succeed.
    const transfer = headers['transfer-encoding']?.trim().toLowerCase();
    if (transfer !== undefined && transfer !== 'chunked') {
      throw invalidRequest(`Transfer-Encoding ${JSON.stringify(headers['transfer-encoding'])} is not supported; send the body chunked or with a Content-Length.`);
    }
    const encoding = headers['content-encoding']?.trim().toLowerCase();
    if (encoding !== undefined && encoding !== '' && encoding !== 'identity') {
      throw unsupportedBody(`Content-Encoding ${JSON.stringify(headers['content-encoding'])} is not supported; send the body uncompressed.`);
    }
    const charset = charsetOf(headers['content-type'] ?? '');
    if (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8' && charset !== 'us-ascii') {
      throw unsupportedBody(`Content-Type charset ${JSON.stringify(charset)} is not supported; send the body as UTF-8.`);
    }
  });
  answerExpectations(app.server);
}

/**
 * An `Expect` other than `100-continue` is answered 417 in the error envelope of the path's API
 * (Node's own answer has no body).
 */
function answerExpectations(server: Server): void {
  server.on('checkExpectation', (request: IncomingMessage, response: ServerResponse) => {
    const requestId = newRequestId();
    const failure = new ApiError(417, 'invalid_request_error', `Expect ${JSON.stringify(request.headers.expect)} is not supported; only "100-continue" is.`);
    const body = JSON.stringify(envelopeFor(request.url ?? '', failure, requestId));
    response.writeHead(417, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body), 'request-id': requestId, connection: 'close' });
    response.end(body);
  });
}
