import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { listenTestApp } from '../../test-support/api/test-app.js';

/** Requests the HTTP parser refuses, or HTTP/1.1 without a Host, sent on raw sockets: each is answered in the error envelope and its connection closed. */

const { url: address } = await listenTestApp('client-error');
const url = new URL(address);

/** Sends `raw` and reads until the server closes the connection. */
function exchange(raw: string): Promise<{ status: number; body: { type: string; error: { type: string; message: string }; request_id: string } }> {
  return new Promise((resolve, reject) => {
    let text = '';
    const socket = connect(Number(url.port), url.hostname, () => socket.write(raw));
    socket.on('data', (chunk: Buffer) => (text += chunk.toString()));
    socket.on('error', reject);
    socket.on('close', () => resolve({ status: Number(text.split(' ')[1]), body: JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4)) }));
  });
}

describe('requests that are not valid HTTP', () => {
  it.each([
    ['Content-Length and Transfer-Encoding together', 'POST /v1/messages/batches HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', 400, /Transfer-Encoding/],
    ['two Content-Lengths', 'POST /v1/messages/batches HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nabcdef', 400, /not valid HTTP\/1\.1/],
    ['an unknown HTTP version', 'GET /health HTTP/9.9\r\nHost: x\r\n\r\n', 400, /HTTP version/],
    ['HTTP/1.1 without a Host header', 'GET /health HTTP/1.1\r\nConnection: close\r\n\r\n', 400, /Host header/],
    ['headers past 16 KiB', `GET /health HTTP/1.1\r\nHost: x\r\nX-A: ${'a'.repeat(20_000)}\r\n\r\n`, 431, /16 KiB/],
  ])('%s: answered in the envelope, the connection closed', async (_name, raw, status, message) => {
    const { status: got, body } = await exchange(raw);
    expect(got).toBe(status);
    expect(body.type).toBe('error');
    expect(body.error.type).toBe('invalid_request_error');
    expect(body.error.message).toMatch(message);
    expect(body.request_id).toMatch(/^req_/);
  });
});
