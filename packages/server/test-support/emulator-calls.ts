import type { Message } from '@batchd/sdk';
import { vi } from 'vitest';
import type { BackendOutcome } from '../src/backends/backend.js';
import { EmulatorBackend } from '../src/backends/emulator/emulator-backend.js';

/** Calls of the emulator backend as its tests make them. */

export function request(text: string, fields: Record<string, unknown> = {}): Record<string, unknown> {
  return { model: 'claude-sonnet-4-5', max_tokens: 1024, messages: [{ role: 'user', content: text }], ...fields };
}

export function send(backend: EmulatorBackend, params: Record<string, unknown>, signal = new AbortController().signal): Promise<BackendOutcome> {
  return backend.send({ params, signal });
}

export async function reply(params: Record<string, unknown>, backend = new EmulatorBackend()): Promise<Message> {
  const outcome = await send(backend, params);
  if (outcome.kind !== 'message') throw new Error(`expected a message, got ${outcome.errorType}: ${outcome.message}`);
  return outcome.message;
}

/** A sleep that records what it was asked for and resolves at once. */
export function recordingSleep() {
  return vi.fn((_ms: number, _signal: AbortSignal) => Promise.resolve());
}

/** A sleep that never ends on its own and rejects when the signal aborts. */
export function sleepUntilAborted(_ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((_resolve, reject) => {
    signal.addEventListener('abort', () => reject(signal.reason), { once: true });
  });
}
