import { describe, expect, it } from 'vitest';
import { api } from '../test-support/api/api.js';
import { createBatch, fetchResults, resultsById, userRequest, waitUntilEnded } from '../test-support/api/batches.js';
import { startServer } from '../test-support/process/server-process.js';

/**
 * The emulator's directives script every result type a batch can produce, so batch-handling code
 * can be tested offline: each request below says in `metadata.user_id` how it should end.
 */
describe('emulator scripting through a batch', () => {
  it('produces succeeded, errored, retried-then-succeeded and expired results on request', async () => {
    const server = await startServer({ flags: { 'batch-ttl': '3s', concurrency: 4, 'maintenance-interval': '200ms' } });
    const client = api(server.url);
    const scripted = (id: string, directive: string) => userRequest(id, `hello ${id}`, { metadata: { user_id: directive } });
    const first = [
      scripted('plain', 'nothing special'),
      scripted('denied', 'emulator:error=permission_error'),
      scripted('flaky', 'emulator:fail=2:api_error'),
      scripted('slow', 'emulator:latency=300'),
    ];
    const done = await waitUntilEnded(client, (await createBatch(client, first)).id, first.length, { timeoutMs: 30_000 });
    const byId = resultsById(await fetchResults(client, done));
    expect(byId.get('plain')!.result.type).toBe('succeeded');
    const denied = byId.get('denied')!.result;
    expect(denied.type === 'errored' && denied.error.error.type).toBe('permission_error');
    expect(byId.get('flaky')!.result.type).toBe('succeeded');
    expect(byId.get('slow')!.result.type).toBe('succeeded');

    // Four slow requests hold every slot past the batch's 3 s expiry, so the fifth is never sent.
    const second = [...Array.from({ length: 4 }, (_, i) => scripted(`stuck-${i}`, 'emulator:latency=5000')), scripted('late', 'nothing special')];
    const expired = await waitUntilEnded(client, (await createBatch(client, second)).id, second.length, { timeoutMs: 30_000 });
    const late = resultsById(await fetchResults(client, expired));
    expect(late.get('late')!.result.type).toBe('expired');
    expect(expired.request_counts).toMatchObject({ succeeded: 4, expired: 1 });
  });
});
