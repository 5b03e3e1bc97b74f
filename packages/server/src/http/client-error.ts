import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import { newRequestId } from '../ids.js';
import { ApiError, invalidRequest, uploadTimedOut } from './api-error.js';

/** What a request that is not valid HTTP is told, by the parser's error code. */
function describe(error: Error & { code?: string; reason?: string }): ApiError {
  switch (error.code) {
    case 'HPE_HEADER_OVERFLOW':
      return new ApiError(431, 'invalid_request_error', 'The request line and headers exceed the limit of 16 KiB.');
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return uploadTimedOut('The request took too long to arrive.');
    default:
      return invalidRequest(`The request is not valid HTTP/1.1${error.reason ? `: ${error.reason}` : ''}.`);
  }
}

/**
 * Answers a request the HTTP parser refused (malformed, ambiguous framing, headers too large)
 * in the API's error envelope, then closes the connection: what follows on it cannot be trusted
 * to start a request.
 */
export function answerClientError(error: Error & { code?: string }, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  if (socket.writable) {
    const failure = describe(error);
    const requestId = newRequestId();
    const body = JSON.stringify(failure.toEnvelope(requestId));
    socket.write(
      `HTTP/1.1 ${failure.status} ${STATUS_CODES[failure.status]}\r\nContent-Type: application/json; charset=utf-8\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nrequest-id: ${requestId}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy();
}
