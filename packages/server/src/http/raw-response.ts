import type { ServerResponse } from 'node:http';
import type { FastifyReply, FastifyRequest } from 'fastify';

/**
 * Answers 200 outside the framework: the reply's headers, then `write` writes the body itself
 * (a stream that waits on the socket, which the framework's piping cannot). `stop` aborts when
 * the connection closes or a write to it fails; an error of `write` is logged unless the stream
 * was stopped, and cuts the response off, so the client sees an interrupted body.
 */
export async function answerRaw(
  request: FastifyRequest,
  reply: FastifyReply,
  stop: AbortController,
  write: (response: ServerResponse) => Promise<void>,
): Promise<void> {
  const response = reply.raw;
  reply.hijack();
  response.on('close', () => stop.abort());
  // A write to a connection that just went: the stream stops as when it closes.
  response.on('error', () => stop.abort());
  try {
    for (const [name, value] of Object.entries(reply.getHeaders())) if (value !== undefined) response.setHeader(name, value);
    response.writeHead(200);
    await write(response);
  } catch (error) {
    if (!stop.signal.aborted) request.log.error({ err: error, requestId: request.id }, `${request.method} ${request.url} failed while answering`);
    response.destroy();
  }
}
