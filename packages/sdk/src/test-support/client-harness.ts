import type { Sleep } from '../internal/backoff.js';
import { makeBatch, sendJSON, startFakeAPI, type FakeAPI, type Handler } from './fake-api.js';

/** Client tests' helpers: a fake API per test, scripted answers, and a sleep that records its delays. */

let served: FakeAPI | undefined;

/** Starts a fake API answering with `handler`; `closeServed` (after each test) closes it. */
export async function serve(handler: Handler): Promise<FakeAPI> {
  served = await startFakeAPI(handler);
  return served;
}

export async function closeServed(): Promise<void> {
  await served?.close();
  served = undefined;
}

/** A sleep that records each requested delay and returns at once. */
export function recordingSleep(): { delays: number[]; sleep: Sleep } {
  const delays: number[] = [];
  return { delays, sleep: async (ms) => void delays.push(ms) };
}

/** A handler answering the scripted responses in turn, then the last one forever. */
export function script(...steps: Handler[]): Handler {
  let call = 0;
  return (req, res) => steps[Math.min(call++, steps.length - 1)]!(req, res);
}

export const ok: Handler = (_req, res) => sendJSON(res, 200, makeBatch());

export async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}
