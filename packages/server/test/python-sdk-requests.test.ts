import { beforeAll, describe, expect, it } from 'vitest';
import { api, type ApiResponse } from '../test-support/api/api.js';
import { expectApiError, expectOk, userRequest } from '../test-support/api/batches.js';
import { chatLine, openAIClient, uploadLines } from '../test-support/api/openai.js';
import { pythonRequest, type EmptyFraming, type PythonRequestOptions, type PythonSdk } from '../test-support/process/python-sdk-requests.js';
import { startServer, type ServerHandle } from '../test-support/process/server-process.js';

/**
 * Every route of the Anthropic, OpenAI and batchd surfaces, called as the official Python SDKs
 * call them (their headers, `Content-Type: application/json` with an empty body on body-less
 * POSTs and DELETEs), against a real `batchd serve`: an empty body is no body, whatever its
 * framing. Routes that need a body say which field is missing.
 */

// Killed when the file ends (its canceled batches still have a long call in flight).
let server: ServerHandle;
beforeAll(async () => {
  server = await startServer();
});

const send = (sdk: PythonSdk, method: string, path: string, options?: PythonRequestOptions) => pythonRequest(server.url, sdk, method, path, options);
const stuck = (customId: string) => userRequest(customId, 'Hi', { metadata: { user_id: 'emulator:latency=120000' } });

/** An OpenAI error body (`{"error":{message,type,param,code}}`) with this status and a message naming `about`. */
function expectOpenAIError(response: ApiResponse, status: number, about: RegExp): void {
  expect(response.status, response.text).toBe(status);
  expect(response.body).toMatchObject({ error: { type: status === 404 ? expect.any(String) : 'invalid_request_error', message: expect.stringMatching(about) } });
}

async function endedBatchId(): Promise<string> {
  const created = expectOk<{ id: string }>(await api(server.url).post('/v1/messages/batches', { requests: [userRequest('quick')] }), 'MessageBatch');
  for (;;) {
    const batch = expectOk<{ processing_status: string }>(await send('anthropic', 'GET', `/v1/messages/batches/${created.id}`), 'MessageBatch');
    if (batch.processing_status === 'ended') return created.id;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe.each<EmptyFraming>(['as-sent', 'chunked'])('requests as the Python SDKs send them (empty bodies %s)', (framing) => {
  it('Anthropic surface: create, list, retrieve, cancel, results, usage, delete, messages, token counts', async () => {
    const running = expectOk<{ id: string }>(await send('anthropic', 'POST', '/v1/messages/batches', { json: { requests: [stuck('slow')] } }), 'MessageBatch');
    expectOk(await send('anthropic', 'GET', '/v1/messages/batches?limit=2'), 'ListResponse_MessageBatch_');
    expectOk(await send('anthropic', 'GET', `/v1/messages/batches/${running.id}`), 'MessageBatch');
    const canceling = expectOk<{ processing_status: string }>(await send('anthropic', 'POST', `/v1/messages/batches/${running.id}/cancel`, { framing }), 'MessageBatch');
    expect(canceling.processing_status).toBe('canceling');

    const ended = await endedBatchId();
    const results = await send('anthropic', 'GET', `/v1/messages/batches/${ended}/results`, { binary: true });
    expect(results.status, results.text).toBe(200);
    expect(JSON.parse(results.text)).toMatchObject({ custom_id: 'quick', result: { type: 'succeeded' } });
    expect((await send('anthropic', 'GET', `/v1/messages/batches/${ended}/usage`)).status).toBe(200);
    expectOk(await send('anthropic', 'DELETE', `/v1/messages/batches/${ended}`, { framing }), 'DeleteMessageBatchResponse');
    expectApiError(await send('anthropic', 'DELETE', `/v1/messages/batches/${ended}`, { framing }), 404, 'not_found_error');
    expectApiError(await send('anthropic', 'POST', '/v1/messages/batches/msgbatch_none/cancel', { framing }), 404, 'not_found_error');

    const noRequests = expectApiError(await send('anthropic', 'POST', '/v1/messages/batches', { framing }), 400, 'invalid_request_error');
    expect(noRequests.message).toBe('requests: Field required');
    const noModel = expectApiError(await send('anthropic', 'POST', '/v1/messages', { framing }), 400, 'invalid_request_error');
    expect(noModel.message).toMatch(/^model: /);
    const noModelCounted = expectApiError(await send('anthropic', 'POST', '/v1/messages/count_tokens', { framing }), 400, 'invalid_request_error');
    expect(noModelCounted.message).toBe('model: Field required');
  });

  it('OpenAI surface: files, batches, cancel, content, delete, uploads', async () => {
    const file = await uploadLines(openAIClient(server.url), [chatLine('r1', 'emulator:latency=120000')]);
    expect((await send('openai', 'GET', '/v1/files')).status).toBe(200);
    expect((await send('openai', 'GET', `/v1/files/${file.id}`)).body).toMatchObject({ id: file.id, object: 'file' });
    const content = await send('openai', 'GET', `/v1/files/${file.id}/content`, { binary: true });
    expect(JSON.parse(content.text)).toMatchObject({ custom_id: 'r1' });

    const created = await send('openai', 'POST', '/v1/batches', { json: { input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' } });
    expect(created.status, created.text).toBe(200);
    const id = (created.body as { id: string }).id;
    expect((await send('openai', 'GET', '/v1/batches')).status).toBe(200);
    expect((await send('openai', 'GET', `/v1/batches/${id}`)).body).toMatchObject({ id, object: 'batch' });
    const cancelled = await send('openai', 'POST', `/v1/batches/${id}/cancel`, { framing });
    expect(cancelled.status, cancelled.text).toBe(200);
    expect(cancelled.body).toMatchObject({ id, status: 'cancelling' });

    const deleted = await send('openai', 'DELETE', `/v1/files/${file.id}`, { framing });
    expect(deleted.body).toEqual({ id: file.id, object: 'file', deleted: true });
    expectOpenAIError(await send('openai', 'DELETE', `/v1/files/${file.id}`, { framing }), 404, /file/i);
    expectOpenAIError(await send('openai', 'POST', '/v1/batches', { framing }), 400, /JSON object/);
    expectOpenAIError(await send('openai', 'POST', '/v1/files', { framing }), 400, /multipart\/form-data/);

    expectOpenAIError(await send('openai', 'POST', '/v1/uploads', { framing }), 400, /^purpose: /);
    const upload = await send('openai', 'POST', '/v1/uploads', { json: { bytes: 3, filename: 'u.jsonl', mime_type: 'application/jsonl', purpose: 'batch' } });
    expect(upload.status, upload.text).toBe(200);
    const uploadId = (upload.body as { id: string }).id;
    expectOpenAIError(await send('openai', 'POST', `/v1/uploads/${uploadId}/parts`, { framing }), 400, /multipart\/form-data/);
    expectOpenAIError(await send('openai', 'POST', `/v1/uploads/${uploadId}/complete`, { framing }), 400, /^part_ids: /);
    const cancelledUpload = await send('openai', 'POST', `/v1/uploads/${uploadId}/cancel`, { framing });
    expect(cancelledUpload.body).toMatchObject({ id: uploadId, object: 'upload', status: 'cancelled' });
  });

  it('batchd surface: backends and webhook endpoints', async () => {
    expect((await send('anthropic', 'GET', '/v1/batchd/backends')).status).toBe(200);
    const noUrl = expectApiError(await send('anthropic', 'POST', '/v1/batchd/webhooks', { framing }), 400, 'invalid_request_error');
    expect(noUrl.message).toMatch(/"url"/);
    const created = await send('anthropic', 'POST', '/v1/batchd/webhooks', { json: { url: 'http://127.0.0.1:9/hook' } });
    expect(created.status, created.text).toBe(200);
    const id = (created.body as { id: string }).id;
    expect((await send('anthropic', 'GET', '/v1/batchd/webhooks')).status).toBe(200);
    expect((await send('anthropic', 'GET', `/v1/batchd/webhooks/${id}`)).status).toBe(200);
    expect((await send('anthropic', 'GET', `/v1/batchd/webhooks/${id}/deliveries`)).status).toBe(200);
    const retry = expectApiError(await send('anthropic', 'POST', `/v1/batchd/webhooks/${id}/deliveries/evt_none/retry`, { framing }), 404, 'not_found_error');
    expect(retry.message).toMatch(/delivery/);
    const removed = await send('anthropic', 'DELETE', `/v1/batchd/webhooks/${id}`, { framing });
    expect(removed.body).toEqual({ id, type: 'webhook_endpoint_deleted' });
  });
});
