import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, expect, it } from 'vitest';
import type { BackendCall, BackendOutcome, MessagesBackend } from '../backends/backend.js';
import { EmulatorBackend } from '../backends/emulator/emulator-backend.js';
import { systemClock } from '../clock.js';
import { SUSPECT_LEASE_LOSSES } from '../store/quarantine.js';
import { SqliteStore } from '../store/sqlite/sqlite-store.js';
import { BackendLane } from './backend-lane.js';
import { Engine } from './engine.js';
import { Lanes } from './lanes.js';
import { waitFor } from '../../test-support/turns.js';

const params = (text: string) => JSON.stringify({ model: 'm', max_tokens: 16, messages: [{ role: 'user', content: text }] });

/** A backend whose calls each wait until the test lets that text's call answer. */
class GatedBackend implements MessagesBackend {
  readonly name = 'gated';
  readonly inFlight = new Set<string>();
  readonly #open = new Map<string, () => void>();
  readonly #emulator = new EmulatorBackend();

  async send({ params: p, signal }: BackendCall): Promise<BackendOutcome> {
    const text = (p.messages as Array<{ content: string }>)[0]!.content;
    this.inFlight.add(text);
    await new Promise<void>((resolve) => this.#open.set(text, resolve));
    this.inFlight.delete(text);
    return this.#emulator.send({ params: p, signal });
  }

  answer(text: string): void {
    this.#open.get(text)!();
  }

  async close() {}
}

let dir: string;
let store: SqliteStore;
let engine: Engine | undefined;
afterEach(async () => {
  await engine?.stop(0);
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

async function createBatch(id: string, texts: string[]) {
  const now = Date.now();
  return store.createBatch(
    { id, workspaceId: 'w', createdAt: now, expiresAt: now + 3_600_000, archiveAt: now + 7_200_000 },
    (async function* () {
      yield texts.map((text) => ({ customId: text, params: params(text) }));
    })(),
  );
}

it('runs one suspect at a time, beside the requests that are not', async () => {
  dir = mkdtempSync(join(tmpdir(), 'batchd-suspects-'));
  store = new SqliteStore(join(dir, 'db.sqlite'));
  const suspects = await createBatch('msgbatch_01suspects', ['s1', 's2']);
  // Two processes died holding them: their leases lapsed twice.
  for (let loss = 0; loss < SUSPECT_LEASE_LOSSES; loss++) {
    const now = Date.now();
    expect(await store.claimRequests(`gone-${loss}`, 10, now + 1, now, undefined, undefined, 0)).toHaveLength(2);
    await store.reclaimExpiredLeases(now + 2);
  }
  const fresh = await createBatch('msgbatch_01fresh', ['n1', 'n2']);

  const backend = new GatedBackend();
  engine = new Engine({
    store,
    lanes: new Lanes([new BackendLane({ name: 'gated', backend, models: ['*'], ceiling: 8 })]),
    // Held up to three limits' worth, so claims go on while the fresh requests run.
    clock: systemClock, logger: pino({ level: 'silent' }), owner: 'engine', maxHeld: 24, leaseMs: 60_000,
    retry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 5, random: () => 0.5 },
    pollIntervalMs: 10,
  });
  engine.start();

  await waitFor('the first suspect and the fresh requests in flight', () => backend.inFlight.size === 3);
  expect([...backend.inFlight].sort()).toEqual(['n1', 'n2', 's1']);
  // A few claims later, the second suspect still waits for the first.
  await new Promise((resolve) => setTimeout(resolve, 100));
  expect(backend.inFlight.has('s2')).toBe(false);

  backend.answer('s1');
  await waitFor('the second suspect in flight', () => backend.inFlight.has('s2'));
  for (const text of ['s2', 'n1', 'n2']) backend.answer(text);
  for (const batch of [suspects, fresh]) {
    await waitFor(`${batch.id} to end`, async () => (await store.getBatch('w', batch.id))?.status === 'ended');
    expect((await store.getBatch('w', batch.id))!.counts).toMatchObject({ succeeded: 2, errored: 0 });
  }
});
