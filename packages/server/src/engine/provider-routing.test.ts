import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { BackendOutcome, MessagesBackend } from '../backends/backend.js';
import { systemClock } from '../clock.js';
import { SqliteStore } from '../store/sqlite/sqlite-store.js';
import type { NewBatch } from '../store/store.js';
import { BackendLane } from './backend-lane.js';
import { Engine } from './engine.js';
import { Lanes } from './lanes.js';
import { providerAtCreate } from './provider-routing.js';

/** A backend that must not be called: requests for a provider batch serving every model are handed over unread. */
class UncalledBackend implements MessagesBackend {
  readonly name = 'uncalled';
  calls = 0;
  async send(): Promise<BackendOutcome> {
    this.calls += 1;
    return { kind: 'error', retryable: false, status: 500, errorType: 'api_error', message: 'not to be called' };
  }
  async close() {}
}

const until = async (done: () => boolean) => {
  while (!done()) await new Promise((resolve) => setTimeout(resolve, 5));
};

describe('providerAtCreate', () => {
  it('hands a new batch over only where the provider batch serving every model carries its endpoint', () => {
    const at = providerAtCreate('pb');
    expect([at(null), at('/v1/chat/completions'), at('/v1/embeddings')]).toEqual(['pb', 'pb', undefined]);
    expect(providerAtCreate(undefined)(null)).toBeUndefined();
  });
});

describe('provider routing in the engine', () => {
  let dir: string;
  let store: SqliteStore;
  let engine: Engine;
  afterEach(async () => {
    await engine?.stop(0);
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('tells the provider batches when a pass after routing finds nothing more queued, for queued requests and for a batch its create handed over', async () => {
    dir = mkdtempSync(join(tmpdir(), 'batchd-routing-'));
    store = new SqliteStore(join(dir, 'db.sqlite'));
    const now = Date.now();
    const create = (id: string, extra: Partial<NewBatch> = {}) =>
      store.createBatch(
        { id, workspaceId: 'w', createdAt: now, expiresAt: now + 3_600_000, archiveAt: now + 7_200_000, ...extra },
        (async function* () {
          yield Array.from({ length: 8 }, (_, i) => ({ customId: `r${i}`, params: JSON.stringify({ model: 'm', max_tokens: 16, messages: [{ role: 'user', content: `routed ${i}` }] }) }));
        })(),
      );
    await create('msgbatch_01queued');
    const backend = new UncalledBackend();
    const words: boolean[] = [];
    engine = new Engine({
      store, clock: systemClock, logger: pino({ level: 'silent' }), owner: 'owner-routing', maxHeld: 4, leaseMs: 60_000, pollIntervalMs: 10,
      lanes: new Lanes([new BackendLane({ name: 'uncalled', backend, models: ['*'], ceiling: 1 })]),
      retry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 5, random: () => 0.5 },
      providerSlots: 4, providerForAll: 'pb', onRouted: (drained) => words.push(drained),
    });
    engine.start();
    // The 8 queued requests are routed in the store (more may be queued), then a pass finds nothing.
    await until(() => words.includes(true));
    expect(await store.providerBatches.routedCount('pb')).toBe(8);
    expect(words.at(-1)).toBe(true);
    expect(words.slice(0, -1).every((drained) => !drained)).toBe(true);

    // A batch its create handed over: the engine says more came, then that its next pass found nothing.
    const before = words.length;
    await create('msgbatch_01created', { providerBackend: 'pb' });
    engine.wake(true);
    await until(() => words.slice(before).includes(true));
    expect(words.slice(before)).toEqual([false, true]);
    expect(await store.providerBatches.routedCount('pb')).toBe(16);
    expect(backend.calls).toBe(0);
  });
});
