import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { api, TEST_API_KEY } from '../../test-support/api/api.js';
import { createBatch, userRequest, userRequests } from '../../test-support/api/batches.js';
import { schemaErrors } from '../../test-support/api/openapi.js';
import { startServer, isAlive } from '../../test-support/process/server-process.js';
import { postStreamed } from '../../test-support/process/stream-body.js';
import { processMemory } from '../../test-support/process/process-memory.js';

/**
 * Hostile bodies, each on a server of its own so its peak memory (VmHWM) is its own: a body over
 * 256 MiB is refused with 413 without being held in memory, and stalled uploads are answered or
 * closed within the 30 s upload idle timeout.
 */

const MiB = 1024 * 1024;
const MAX_BODY_BYTES = 256 * MiB;
/** batchd answers or closes an upload that sends nothing for this long. */
const UPLOAD_IDLE_MS = 30_000;
/** Slack on top of the idle timeout for a loaded machine. */
const IDLE_GRACE_MS = 10_000;
/** Growth of the server's memory allowed while refusing a 257 MiB body: half of it, so the body is never held whole. */
const REFUSAL_RSS_GROWTH_LIMIT_MIB = 128;

describe('a body over 256 MiB', () => {
  /** A valid create body of `totalBytes`, in requests of about 64 KiB, generated as it is sent. */
  function* bigBody(totalBytes: number): Generator<Buffer> {
    const filler = 'x'.repeat(64 * 1024);
    yield Buffer.from('{"requests":[');
    let sent = 0;
    for (let i = 0; sent < totalBytes; i++) {
      const item = Buffer.from(`${i === 0 ? '' : ','}${JSON.stringify(userRequest(`big-${i}`, filler))}`);
      sent += item.length;
      yield item;
    }
    yield Buffer.from(']}');
  }

  function expectTooLarge(response: { status: number; headers: Record<string, string | string[] | undefined>; text: string }): void {
    expect(response.status, response.text.slice(0, 300)).toBe(413);
    const body: unknown = JSON.parse(response.text);
    expect(schemaErrors('BatchdRequestTooLargeResponse', body)).toEqual([]);
    expect(response.headers['request-id']).toMatch(/^req_/);
    expect((body as { request_id: string }).request_id).toBe(response.headers['request-id']);
  }

  it('is refused with 413, streamed without a length, without being held in memory', async () => {
    const server = await startServer({ flags: { 'log-level': 'error' } });
    const before = processMemory(server.pid).rssMiB;
    const response = await postStreamed(`${server.url}/v1/messages/batches`, () => bigBody(MAX_BODY_BYTES + MiB));
    expectTooLarge(response);
    const { peakRssMiB } = processMemory(server.pid);
    expect(peakRssMiB - before, `growth of the server's peak RSS over ${Math.round(before)} MiB at start, MiB`).toBeLessThan(REFUSAL_RSS_GROWTH_LIMIT_MIB);
    expect((await api(server.url).get('/v1/messages/batches')).body.data).toEqual([]);
    console.log(
      `[reliability] hostile input: ${Math.round(response.bytesSent / MiB)} MiB streamed create refused with 413; ` +
        `server RSS ${Math.round(before)} MiB at start, peak ${Math.round(peakRssMiB)} MiB`,
    );
  }, 120_000);

  it('is refused with 413 when its declared length is over the limit, without being held in memory', async () => {
    const server = await startServer({ flags: { 'log-level': 'error' } });
    const before = processMemory(server.pid).rssMiB;
    const size = MAX_BODY_BYTES + 16 * MiB;
    let produced = 0;
    const response = await postStreamed(
      `${server.url}/v1/messages/batches`,
      function* body() {
        const chunk = Buffer.alloc(MiB, 0x20);
        for (; produced < size; produced += chunk.length) yield chunk;
      },
      { 'content-length': String(size) },
    );
    expectTooLarge(response);
    const { peakRssMiB } = processMemory(server.pid);
    expect(peakRssMiB - before, `growth of the server's peak RSS over ${Math.round(before)} MiB at start, MiB`).toBeLessThan(REFUSAL_RSS_GROWTH_LIMIT_MIB);
  }, 120_000);
});

describe('stalled uploads', () => {
  interface StallOutcome {
    what: string;
    elapsedMs: number;
    closed: boolean;
    response: string;
  }

  /** Sends the headers and the start of a body on a raw socket, then nothing. */
  function stall(url: string, what: string, method: string, path: string, chunked: boolean, multipart = false): Promise<StallOutcome> {
    const { port } = new URL(url);
    return new Promise((resolve) => {
      const started = Date.now();
      let response = '';
      const socket = connect(Number(port), '127.0.0.1', () => {
        const start = multipart ? '--x\r\ncontent-disposition: form-data; name="file"; filename="in.jsonl"\r\n\r\n{"req' : '{"req';
        const framing = chunked ? `transfer-encoding: chunked\r\n\r\n${start.length.toString(16)}\r\n${start}\r\n` : `content-length: 1000\r\n\r\n${start}`;
        const type = multipart ? 'multipart/form-data; boundary=x' : 'application/json';
        socket.write(`${method} ${path} HTTP/1.1\r\nhost: 127.0.0.1\r\nx-api-key: ${TEST_API_KEY}\r\ncontent-type: ${type}\r\n${framing}`);
      });
      const done = (closed: boolean) => {
        clearTimeout(limit);
        socket.destroy();
        resolve({ what, elapsedMs: Date.now() - started, closed, response });
      };
      const limit = setTimeout(() => done(false), UPLOAD_IDLE_MS + IDLE_GRACE_MS);
      socket.setEncoding('utf8');
      socket.on('data', (chunk: string) => (response += chunk));
      socket.on('close', () => done(true));
      socket.on('error', () => undefined);
    });
  }

  it('answers or closes each within the upload idle timeout', async () => {
    const server = await startServer({ flags: { 'log-level': 'error' } });
    const id = (await createBatch(api(server.url), userRequests(1, 'stall'))).id;
    const outcomes = await Promise.all([
      stall(server.url, 'create, content-length', 'POST', '/v1/messages/batches', false),
      stall(server.url, 'create, chunked', 'POST', '/v1/messages/batches', true),
      stall(server.url, 'POST /v1/messages', 'POST', '/v1/messages', false),
      stall(server.url, 'POST /v1/chat/completions', 'POST', '/v1/chat/completions', false),
      stall(server.url, 'POST /v1/embeddings', 'POST', '/v1/embeddings', false),
      stall(server.url, 'cancel', 'POST', `/v1/messages/batches/${id}/cancel`, false),
      stall(server.url, 'delete', 'DELETE', `/v1/messages/batches/${id}`, true),
      stall(server.url, 'file upload', 'POST', '/v1/files', false, true),
      stall(server.url, 'file upload, chunked', 'POST', '/v1/files', true, true),
    ]);
    const problems: string[] = [];
    for (const outcome of outcomes) {
      const statusLine = outcome.response.split('\r\n', 1)[0] ?? '';
      if (!outcome.closed) problems.push(`${outcome.what}: still open after ${outcome.elapsedMs} ms, answered ${JSON.stringify(statusLine)}`);
      if (outcome.response === '') continue;
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(statusLine)?.[1]);
      const [head = '', body = ''] = outcome.response.split('\r\n\r\n', 2);
      if (!(status >= 400 && status < 500)) problems.push(`${outcome.what}: answered ${statusLine}`);
      // A bare status line from the HTTP layer (such as Node's own 408) closes the exchange too.
      if (body === '') continue;
      if (!/^request-id: req_/im.test(head)) problems.push(`${outcome.what}: answer without a request-id`);
      let envelope: unknown;
      try {
        envelope = JSON.parse(body);
      } catch {
        problems.push(`${outcome.what}: answer body is not JSON: ${body.slice(0, 200)}`);
        continue;
      }
      const errors = schemaErrors('ErrorResponse', envelope);
      if (errors.length > 0) problems.push(`${outcome.what}: ${errors.join('; ')}`);
    }
    expect(problems).toEqual([]);
    expect(isAlive(server)).toBe(true);
    console.log(
      `[reliability] hostile input: stalled uploads ${outcomes.map((o) => `${o.what} ${o.response.split(' ', 2)[1] ?? 'closed'} in ${(o.elapsedMs / 1000).toFixed(1)} s`).join('; ')}`,
    );
  }, 120_000);
});
