import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { classifyResponse, classifyStream, classifyTransportFailure, invalidResponseBody, parseErrorEnvelope, redact } from './classify.js';

const NOW = Date.parse('2026-01-01T00:00:00Z');
const context = { nowMs: NOW };

describe('classifyResponse', () => {
  const table: Array<[number, boolean, string]> = [
    [400, false, 'invalid_request_error'],
    [401, false, 'authentication_error'],
    [402, false, 'billing_error'],
    [403, false, 'permission_error'],
    [404, false, 'not_found_error'],
    [413, false, 'request_too_large'],
    [422, false, 'invalid_request_error'],
    [408, true, 'timeout_error'],
    [409, true, 'api_error'],
    [429, true, 'rate_limit_error'],
    [500, true, 'api_error'],
    [502, true, 'api_error'],
    [503, true, 'api_error'],
    [504, true, 'api_error'],
    [529, true, 'overloaded_error'],
  ];

  it.each(table)('status %i without an envelope: retryable %s, type %s', (status, retryable, errorType) => {
    const outcome = classifyResponse(status, {}, 'upstream said no', context);
    expect(outcome).toEqual({
      kind: 'error',
      retryable,
      status,
      errorType,
      message: `provider answered HTTP ${status}: upstream said no`,
    });
  });

  it('keeps the type and message of an Anthropic envelope', () => {
    const body = JSON.stringify({ type: 'error', error: { type: 'permission_error', message: 'no access to model' }, request_id: 'req_1' });
    expect(classifyResponse(400, {}, body, context)).toMatchObject({ retryable: false, errorType: 'permission_error', message: 'no access to model' });
  });

  it('falls back to the status type when an Anthropic envelope names an unknown type', () => {
    const body = JSON.stringify({ type: 'error', error: { type: 'brand_new_error', message: 'new' } });
    expect(classifyResponse(503, {}, body, context)).toMatchObject({ errorType: 'api_error', message: 'new' });
  });

  it('keeps the message of an OpenAI envelope, with the type its status implies', () => {
    const badKey = JSON.stringify({ error: { message: 'Incorrect API key provided', type: 'invalid_request_error', code: 'invalid_api_key' } });
    expect(classifyResponse(401, {}, badKey, context)).toMatchObject({ errorType: 'authentication_error', message: 'Incorrect API key provided' });
    const foreign = JSON.stringify({ error: { message: 'Rate limit reached', type: 'requests', code: 'rate_limit_exceeded' } });
    expect(classifyResponse(429, {}, foreign, context)).toMatchObject({ retryable: true, errorType: 'rate_limit_error', message: 'Rate limit reached' });
  });

  it("reads vLLM's flat envelope and a bare error string", () => {
    const flat = JSON.stringify({ object: 'error', message: 'model not found', type: 'NotFoundError', code: 404 });
    expect(classifyResponse(404, {}, flat, context)).toMatchObject({ errorType: 'not_found_error', message: 'model not found' });
    expect(classifyResponse(500, {}, '{"error":"llama exploded"}', context)).toMatchObject({ errorType: 'api_error', message: 'llama exploded' });
  });

  it('names the status alone for an empty body and shortens a long one', () => {
    expect(classifyResponse(502, {}, '', context).message).toBe('provider answered HTTP 502');
    const long = classifyResponse(502, {}, `<html>${'x'.repeat(500)}</html>`, context).message;
    expect(long.length).toBeLessThan(260);
    expect(long.endsWith('…')).toBe(true);
  });

  it('reads retry-after-ms first, then retry-after as seconds or an HTTP date', () => {
    expect(classifyResponse(429, { 'retry-after-ms': '250', 'retry-after': '9' }, '', context).retryAfterMs).toBe(250);
    expect(classifyResponse(429, { 'retry-after': '3' }, '', context).retryAfterMs).toBe(3000);
    expect(classifyResponse(429, { 'retry-after': '1.5' }, '', context).retryAfterMs).toBe(1500);
    const date = new Date(NOW + 7000).toUTCString();
    expect(classifyResponse(503, { 'retry-after': date }, '', context).retryAfterMs).toBe(7000);
    expect(classifyResponse(503, { 'retry-after': new Date(NOW - 7000).toUTCString() }, '', context).retryAfterMs).toBe(0);
    expect(classifyResponse(503, { 'retry-after': 'soon' }, '', context)).not.toHaveProperty('retryAfterMs');
    expect(classifyResponse(503, {}, '', context)).not.toHaveProperty('retryAfterMs');
  });

  it('lets x-should-retry override the status table', () => {
    expect(classifyResponse(500, { 'x-should-retry': 'false' }, '', context).retryable).toBe(false);
    expect(classifyResponse(400, { 'x-should-retry': 'true' }, '', context).retryable).toBe(true);
  });

  it('redacts the secret from the message', () => {
    const body = JSON.stringify({ error: { message: 'bad key sk-secret-123 given', type: 'invalid_request_error' } });
    const outcome = classifyResponse(401, {}, body, { nowMs: NOW, secret: 'sk-secret-123' });
    expect(outcome.message).toBe('bad key [redacted] given');
    expect(classifyResponse(500, {}, 'echo sk-secret-123', { nowMs: NOW, secret: 'sk-secret-123' }).message).not.toContain('sk-secret-123');
  });
});

describe('classifyTransportFailure', () => {
  it('answers every failure as retryable with status 0', () => {
    expect(classifyTransportFailure('timeout', new Error('x'), context)).toEqual({
      kind: 'error',
      retryable: true,
      status: 0,
      errorType: 'timeout_error',
      message: 'provider did not answer in time',
    });
    expect(classifyTransportFailure('aborted', undefined, context)).toMatchObject({ retryable: true, status: 0, errorType: 'api_error' });
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), { code: 'ECONNREFUSED' });
    expect(classifyTransportFailure('connection', refused, context)).toEqual({
      kind: 'error',
      retryable: true,
      status: 0,
      errorType: 'api_error',
      message: 'connection error: ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:9',
    });
  });

  it('redacts the secret from a connection error', () => {
    const outcome = classifyTransportFailure('connection', new Error('header Bearer k-1 rejected'), { nowMs: NOW, secret: 'k-1' });
    expect(outcome.message).not.toContain('k-1');
  });
});

describe('helpers', () => {
  it('parses only error envelopes', () => {
    expect(parseErrorEnvelope('not json')).toBeNull();
    expect(parseErrorEnvelope('{"id":"msg_1"}')).toBeNull();
    expect(parseErrorEnvelope('{"error":{"code":1}}')).toBeNull();
    expect(parseErrorEnvelope('{"error":{"message":"m","type":"invalid_request_error"}}')).toEqual({ message: 'm' });
    expect(parseErrorEnvelope('{"type":"error","error":{"message":"m","type":"api_error"}}')).toEqual({ type: 'api_error', message: 'm' });
  });

  it('describes an unusable 2xx body as retryable', () => {
    expect(invalidResponseBody(200)).toEqual({ kind: 'error', retryable: true, status: 200, errorType: 'api_error', message: 'invalid response body' });
    expect(invalidResponseBody(200, 'no choices').message).toBe('invalid response body: no choices');
  });

  it('redacts nothing without a secret', () => {
    expect(redact('abc', undefined)).toBe('abc');
    expect(redact('abc', '')).toBe('abc');
  });
});

describe('classifyStream', () => {
  const opened = (status: number, body: Readable) => ({ kind: 'stream' as const, status, headers: { 'content-type': 'application/json' }, body });

  it('hands over a 2xx stream unread', async () => {
    const body = Readable.from([Buffer.from('data: {}\n\n')]);
    const answer = opened(200, body);
    expect(await classifyStream(answer, context)).toBe(answer);
    expect(body.readableDidRead).toBe(false);
  });

  it('classifies a failed answer from its body, the secret redacted', async () => {
    const body = Readable.from([Buffer.from(JSON.stringify({ error: { type: 'authentication_error', message: 'invalid api key: sk-secret-1' } }))]);
    const outcome = await classifyStream(opened(401, body), { ...context, secret: 'sk-secret-1' });
    expect(outcome).toMatchObject({ kind: 'error', retryable: false, status: 401, errorType: 'authentication_error' });
    expect(JSON.stringify(outcome)).not.toContain('sk-secret-1');
  });

  it('reads no more than the start of a failed answer that never ends', async () => {
    let sent = 0;
    const endless = new Readable({
      read() {
        sent += 1;
        this.push(Buffer.alloc(16 * 1024, 0x61));
      },
    });
    const outcome = await classifyStream(opened(503, endless), context);
    expect(outcome).toMatchObject({ kind: 'error', retryable: true, status: 503 });
    expect(sent).toBeLessThan(16);
  });
});
