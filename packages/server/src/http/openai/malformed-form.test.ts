import { describe, expect, it } from 'vitest';
import { listenTestApp } from '../../../test-support/api/test-app.js';
import { rawRequest } from '../../../test-support/process/raw-http.js';

/** Uploads whose multipart body is malformed, on a server on loopback: each is the client's fault, answered 400 in OpenAI's envelope, nothing stored. */

const { url } = await listenTestApp('malformed-form');

const line = JSON.stringify({ custom_id: 'a', method: 'POST', url: '/v1/chat/completions', body: { model: 'm', messages: [] } });
const form = (boundary: string, closed = true) =>
  [`--${boundary}`, 'Content-Disposition: form-data; name="purpose"', '', 'batch', `--${boundary}`, 'Content-Disposition: form-data; name="file"; filename="a.jsonl"', '', line, ...(closed ? [`--${boundary}--`, ''] : [])].join('\r\n');

const upload = (contentType: string, body: string) => rawRequest(url, 'POST', '/v1/files', { 'x-api-key': 'k', 'content-type': contentType }, body);

describe('POST /v1/files with a malformed multipart body', () => {
  it.each([
    ['no boundary in the Content-Type', 'multipart/form-data', form('B')],
    ['a boundary over 256 bytes', `multipart/form-data; boundary=${'b'.repeat(300)}`, form('b'.repeat(300))],
    ['a form cut off inside the file, without its closing boundary', 'multipart/form-data; boundary=B', form('B', false)],
    ['a body that is not multipart at all', 'multipart/form-data; boundary=B', 'hello world '.repeat(10)],
  ])('%s: 400 in the envelope', async (_name, contentType, body) => {
    const response = await upload(contentType, body);
    expect(response.status, response.body).toBe(400);
    const { error } = JSON.parse(response.body) as { error: { type: string; message: string } };
    expect(error.type).toBe('invalid_request_error');
    expect(error.message).toMatch(/multipart/);
  });

  it('repeats at most 200 characters of an unknown purpose in its 400', async () => {
    const purpose = 'p'.repeat(100_000);
    const body = ['--B', 'Content-Disposition: form-data; name="purpose"', '', purpose, '--B--', ''].join('\r\n');
    const response = await upload('multipart/form-data; boundary=B', body);
    expect(response.status).toBe(400);
    const { error } = JSON.parse(response.body) as { error: { message: string } };
    expect(error.message).toMatch(/^purpose: batchd keeps files for purpose "batch" only, got "p{199}…\.$/);
  });

  it('stores none of them, and still takes a well-formed upload', async () => {
    const files = async () => (JSON.parse((await rawRequest(url, 'GET', '/v1/files', { 'x-api-key': 'k' })).body) as { data: unknown[] }).data;
    expect(await files()).toEqual([]);
    const response = await upload('multipart/form-data; boundary=B', form('B'));
    expect(response.status, response.body).toBe(200);
    expect(await files()).toHaveLength(1);
  });
});
