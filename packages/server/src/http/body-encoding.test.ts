import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { listenTestApp } from '../../test-support/api/test-app.js';
import { rawRequest } from '../../test-support/process/raw-http.js';

/** Bodies batchd cannot read as sent (compressed, another charset) and expectations it cannot meet, on a server on loopback. */

const { url } = await listenTestApp('body-encoding');

const createBody = JSON.stringify({ requests: [{ custom_id: 'a', params: { model: 'm', max_tokens: 5, messages: [{ role: 'user', content: 'hi' }] } }] });
const openAIBody = JSON.stringify({ input_file_id: 'file-x', endpoint: '/v1/chat/completions', completion_window: '24h' });
const form = ['--B', 'Content-Disposition: form-data; name="purpose"', '', 'batch', '--B', 'Content-Disposition: form-data; name="file"; filename="a.jsonl"', '', '{}', '--B--', ''].join('\r\n');

const routes = [
  ['/v1/messages/batches', 'application/json', createBody],
  ['/v1/batches', 'application/json', openAIBody],
  ['/v1/files', 'multipart/form-data; boundary=B', form],
] as const;

/** Sends `raw` as written and reads the answer until the server closes the connection. */
function exchange(raw: string): Promise<{ status: number; body: string }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    let text = '';
    const socket = connect(Number(port), hostname, () => socket.write(raw));
    socket.on('data', (chunk: Buffer) => (text += chunk.toString()));
    socket.on('error', reject);
    socket.on('close', () => resolve({ status: Number(text.split(' ')[1]), body: text.slice(text.indexOf('\r\n\r\n') + 4) }));
  });
}

async function batchCount(): Promise<number> {
  const listed = await rawRequest(url, 'GET', '/v1/messages/batches', { 'x-api-key': 'k' });
  return (JSON.parse(listed.body) as { data: unknown[] }).data.length;
}

function expectEnvelope(path: string, body: string, message: RegExp): void {
  const parsed = JSON.parse(body) as { type?: string; error: { type: string; message: string } };
  if (path === '/v1/messages/batches') expect(parsed.type).toBe('error');
  expect(parsed.error.type).toBe('invalid_request_error');
  expect(parsed.error.message).toMatch(message);
}

describe('request bodies batchd cannot read as sent', () => {
  it.each(routes)('%s: a Content-Encoding other than identity is refused with 415, nothing stored', async (path, contentType, body) => {
    for (const encoding of ['gzip', 'deflate', 'br', 'x-unknown', 'gzip, identity']) {
      const response = await rawRequest(url, 'POST', path, { 'x-api-key': 'k', 'content-type': contentType, 'content-encoding': encoding }, body);
      expect(response.status, `${encoding}: ${response.body}`).toBe(415);
      expectEnvelope(path, response.body, /Content-Encoding/);
    }
    expect(await batchCount()).toBe(0);
  });

  it.each(routes)('%s: a Transfer-Encoding other than chunked is refused with 400, nothing stored', async (path, contentType, body) => {
    const chunked = `${Buffer.byteLength(body).toString(16)}\r\n${body}\r\n0\r\n\r\n`;
    for (const coding of ['gzip, chunked', 'deflate,chunked', 'x-unknown, chunked']) {
      const head = `POST ${path} HTTP/1.1\r\nHost: x\r\nx-api-key: k\r\ncontent-type: ${contentType}\r\ntransfer-encoding: ${coding}\r\nconnection: close\r\n\r\n`;
      const response = await exchange(head + chunked);
      expect(response.status, `${coding}: ${response.body}`).toBe(400);
      expectEnvelope(path, response.body, /Transfer-Encoding/);
    }
    expect(await batchCount()).toBe(0);
  });

  it.each(routes)('%s: a charset other than UTF-8 is refused with 415', async (path, contentType, body) => {
    for (const charset of ['utf-16', 'latin1', '"ISO-8859-1"']) {
      const response = await rawRequest(url, 'POST', path, { 'x-api-key': 'k', 'content-type': `${contentType}; charset=${charset}` }, body);
      expect(response.status, `${charset}: ${response.body}`).toBe(415);
      expectEnvelope(path, response.body, /charset/);
    }
  });

  it('still takes identity, UTF-8 and no charset, and a body-less request whatever it declares', async () => {
    const headers = { 'x-api-key': 'k', 'content-type': 'application/json; charset=UTF-8', 'content-encoding': 'identity' };
    expect((await rawRequest(url, 'POST', '/v1/messages/batches', headers, createBody)).status).toBe(200);
    expect((await rawRequest(url, 'POST', '/v1/messages/batches', { 'x-api-key': 'k', 'content-type': 'application/json' }, createBody.replace('"a"', '"b"'))).status).toBe(200);
    expect((await rawRequest(url, 'GET', '/v1/messages/batches', { 'x-api-key': 'k', 'content-encoding': 'gzip' })).status).toBe(200);
  });

  it.each([
    ['/v1/messages/batches', /"type":"error"/],
    ['/v1/batches', /^\{"error":\{"message"/],
  ])('%s: an Expect other than 100-continue is answered 417 in the envelope', async (path, shape) => {
    const response = await rawRequest(url, 'POST', path, { 'x-api-key': 'k', 'content-type': 'application/json', expect: '200-ok' }, createBody);
    expect(response.status).toBe(417);
    expect(response.body).toMatch(shape);
    expect(response.body).toMatch(/100-continue/);
  });
});
