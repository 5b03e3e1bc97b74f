import { describe, expect, it } from 'vitest';
import { recordingSleep, request, send, sleepUntilAborted } from '../../../test-support/emulator-calls.js';
import { EmulatorBackend } from './emulator-backend.js';

/** The emulator's scripting: injected errors, latency, aborts and transient failures. */
describe('EmulatorBackend directives', () => {
  describe('errors', () => {
    it.each([
      ['invalid_request_error', 400, false, 'Invalid request'],
      ['authentication_error', 401, false, 'Authentication error'],
      ['permission_error', 403, false, 'Permission denied'],
      ['not_found_error', 404, false, 'Not found'],
      ['rate_limit_error', 429, true, 'Rate limited'],
      ['api_error', 500, true, 'Internal server error'],
      ['overloaded_error', 529, true, 'Overloaded'],
    ])('injects %s from metadata.user_id', async (errorType, status, retryable, text) => {
      const outcome = await send(new EmulatorBackend(), request('Hi', { metadata: { user_id: `tester emulator:error=${errorType}` } }));
      expect(outcome).toEqual({ kind: 'error', retryable, status, errorType, message: `${text} (injected by emulator:error=${errorType})` });
    });

    it('injects an error from the last user turn, preferring the one in metadata.user_id', async () => {
      const fromText = await send(new EmulatorBackend(), request('please fail emulator:error=overloaded_error now'));
      expect(fromText).toMatchObject({ kind: 'error', status: 529, retryable: true, errorType: 'overloaded_error' });
      const both = request('emulator:error=api_error', { metadata: { user_id: 'emulator:error=rate_limit_error' } });
      expect(await send(new EmulatorBackend(), both)).toMatchObject({ errorType: 'rate_limit_error', status: 429 });
    });

    it('ignores directives in earlier turns', async () => {
      const params = request('', {
        messages: [
          { role: 'user', content: 'emulator:error=api_error' },
          { role: 'assistant', content: 'ok' },
          { role: 'user', content: 'fine' },
        ],
      });
      expect((await send(new EmulatorBackend(), params)).kind).toBe('message');
    });

    it('answers an unknown injected error type as an invalid request', async () => {
      const outcome = await send(new EmulatorBackend(), request('emulator:error=teapot_error'));
      expect(outcome).toMatchObject({ kind: 'error', status: 400, retryable: false, errorType: 'invalid_request_error' });
      expect(outcome.kind === 'error' && outcome.message).toContain('teapot_error');
    });

    it('waits the latency before an injected error', async () => {
      const sleep = recordingSleep();
      const outcome = await send(new EmulatorBackend({ latencyMs: 300, sleep }), request('emulator:error=api_error'));
      expect(outcome).toMatchObject({ errorType: 'api_error' });
      expect(sleep).toHaveBeenCalledWith(300, expect.any(AbortSignal));
    });
  });

  describe('latency', () => {
    it('asks the sleep for the configured latency with the call signal', async () => {
      const sleep = recordingSleep();
      const controller = new AbortController();
      const outcome = await send(new EmulatorBackend({ latencyMs: 250, sleep }), request('Hi'), controller.signal);
      expect(outcome.kind).toBe('message');
      expect(sleep).toHaveBeenCalledTimes(1);
      expect(sleep).toHaveBeenCalledWith(250, controller.signal);
    });

    it('answers without sleeping when the latency is 0, by default or by directive', async () => {
      const sleep = recordingSleep();
      expect((await send(new EmulatorBackend({ sleep }), request('Hi'))).kind).toBe('message');
      expect((await send(new EmulatorBackend({ latencyMs: 250, sleep }), request('emulator:latency=0'))).kind).toBe('message');
      expect(sleep).not.toHaveBeenCalled();
    });

    it('takes the latency from an emulator:latency directive', async () => {
      const sleep = recordingSleep();
      await send(new EmulatorBackend({ latencyMs: 250, sleep }), request('slow please emulator:latency=1234'));
      await send(new EmulatorBackend({ sleep }), request('Hi', { metadata: { user_id: 'emulator:latency=77' } }));
      expect(sleep.mock.calls.map(([ms]) => ms)).toEqual([1234, 77]);
    });

    it('answers after the default timer', async () => {
      const outcome = await send(new EmulatorBackend({ latencyMs: 1 }), request('Hi'));
      expect(outcome.kind).toBe('message');
    });
  });

  describe('abort', () => {
    const aborted = { kind: 'error', retryable: true, status: 0, errorType: 'api_error', message: 'request aborted' };

    it('answers a retryable error when the signal aborts during the wait', async () => {
      const controller = new AbortController();
      const pending = send(new EmulatorBackend({ latencyMs: 1000, sleep: sleepUntilAborted }), request('Hi'), controller.signal);
      controller.abort();
      expect(await pending).toEqual(aborted);
    });

    it('stops the default timer when the signal aborts', async () => {
      const controller = new AbortController();
      const pending = send(new EmulatorBackend({ latencyMs: 3_600_000 }), request('Hi'), controller.signal);
      controller.abort();
      expect(await pending).toEqual(aborted);
    });

    it('answers an already aborted call as aborted', async () => {
      const controller = new AbortController();
      controller.abort();
      expect(await send(new EmulatorBackend(), request('Hi'), controller.signal)).toEqual(aborted);
    });

  });
});

describe('emulator transient failures', () => {
  const scripted = (directive: string) => ({ model: 'm', max_tokens: 16, metadata: { user_id: directive }, messages: [{ role: 'user', content: 'hi' }] });
  const signal = new AbortController().signal;

  it('fails the first n attempts with a retryable error, then answers', async () => {
    const emulator = new EmulatorBackend();
    const outcomes = [];
    for (let attempt = 1; attempt <= 3; attempt++) outcomes.push(await emulator.send({ params: scripted('emulator:fail=2'), signal, attempt }));
    expect(outcomes.map((o) => (o.kind === 'error' ? [o.status, o.retryable] : 'message'))).toEqual([[529, true], [529, true], 'message']);
  });

  it('uses a named retryable error type, and overloaded_error for a permanent one', async () => {
    const emulator = new EmulatorBackend();
    const limited = await emulator.send({ params: scripted('emulator:fail=1:rate_limit_error'), signal, attempt: 1 });
    expect(limited).toMatchObject({ kind: 'error', status: 429, errorType: 'rate_limit_error', retryable: true });
    const permanent = await emulator.send({ params: scripted('emulator:fail=1:not_found_error'), signal, attempt: 1 });
    expect(permanent).toMatchObject({ kind: 'error', status: 529, errorType: 'overloaded_error' });
  });
});
