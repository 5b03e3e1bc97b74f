import { afterEach, expect } from 'vitest';
import { ProviderBatchError, type ProviderLineResult } from '../../src/backends/provider-batch/provider-batch-client.js';

/** What the tests of the provider batch clients share: the fakes' clock, closing after each test, and reading outcomes. */

export const START_MS = Date.parse('2026-03-01T12:00:00.000Z');

/** The clock tests give the fakes (`now: () => clock.nowMs`) and move forward; back at `START_MS` after each test. */
export const clock = { nowMs: START_MS };

const closers: { close(): Promise<void> }[] = [];

afterEach(async () => {
  await Promise.all(closers.splice(0).map((closer) => closer.close()));
  clock.nowMs = START_MS;
});

/** Closes these (clients, fakes) after the test. */
export function closeAfterTest(...items: { close(): Promise<void> }[]): void {
  closers.push(...items);
}

export async function collect(results: AsyncIterable<ProviderLineResult[]>): Promise<ProviderLineResult[]> {
  const all: ProviderLineResult[] = [];
  for await (const page of results) all.push(...page);
  return all;
}

/** The `ProviderBatchError` a call fails with (the test fails if it succeeds or throws something else). */
export async function failure(promise: Promise<unknown>): Promise<ProviderBatchError> {
  const error: unknown = await promise.then(() => undefined, (caught: unknown) => caught);
  expect(error).toBeInstanceOf(ProviderBatchError);
  return error as ProviderBatchError;
}
