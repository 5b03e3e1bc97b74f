import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { Backend, BackendCall, BackendOutcome, MessagesBackend } from '../backends/backend.js';
import { EmulatorBackend } from '../backends/emulator/emulator-backend.js';
import { systemClock } from '../clock.js';
import { SqliteStore } from '../store/sqlite/sqlite-store.js';
import type { BatchStore } from '../store/store.js';
import { BackendLane } from './backend-lane.js';
import { Engine } from './engine.js';
import { Lanes } from './lanes.js';

const logger = pino({ level: 'silent' });
const params = (text: string) => JSON.stringify({ model: 'm', max_tokens: 16, messages: [{ role: 'user', content: text }] });

/** A backend that answers by a script keyed on the request text and counts calls in flight. */
class ScriptedBackend implements MessagesBackend {
  readonly name = 'scripted';
  inFlight = 0;
  maxInFlight = 0;
  calls = new Map<string, number>();
  constructor(private readonly answer: (text: string, call: number, signal: AbortSignal) => Promise<BackendOutcome>) {}
  async send({ params: p, signal }: BackendCall): Promise<BackendOutcome> {
    const text = (p.messages as Array<{ content: string }>)[0]!.content;
    const call = (this.calls.get(text) ?? 0) + 1;
    this.calls.set(text, call);
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      return await this.answer(text, call, signal);
    } finally {
      this.inFlight--;
    }
  }
  async close() {}
}

const message = new EmulatorBackend();
async function reply(text: string): Promise<BackendOutcome> {
  return message.send({ params: JSON.parse(params(text)), signal: new AbortController().signal });
}
const transient: BackendOutcome = { kind: 'error', retryable: true, status: 529, errorType: 'overloaded_error', message: 'Overloaded' };

describe('engine', () => {
  let dir: string;
  let store: BatchStore;
  const engines: Engine[] = [];
  afterEach(async () => {
    for (const engine of engines.splice(0)) await engine.stop(0);
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function setup(backend: Backend, texts: string[], concurrency = 4, maxAttempts = 3) {
    dir = mkdtempSync(join(tmpdir(), 'batchd-engine-'));
    store = new SqliteStore(join(dir, 'db.sqlite'));
    const now = Date.now();
    const batch = await store.createBatch(
      { id: 'msgbatch_01engine', workspaceId: 'w', createdAt: now, expiresAt: now + 3_600_000, archiveAt: now + 7_200_000 },
      (async function* () {
        yield texts.map((text, i) => ({ customId: `c${i}`, params: params(text) }));
      })(),
    );
    const engine = startEngine(backend, concurrency, maxAttempts);
    return { batch, engine };
  }

  function startEngine(backend: Backend, concurrency: number, maxAttempts = 3) {
    const engine = new Engine({
      store,
      lanes: new Lanes([new BackendLane({ name: 'scripted', backend, models: ['*'], ceiling: concurrency })]),
      clock: systemClock, logger, owner: `owner-${engines.length}`, maxHeld: concurrency, leaseMs: 60_000,
      retry: { maxAttempts, baseDelayMs: 1, maxDelayMs: 5, random: () => 0.5 },
      pollIntervalMs: 10,
    });
    engines.push(engine);
    engine.start();
    return engine;
  }

  async function ended(id: string) {
    for (;;) {
      const batch = await store.getBatch('w', id);
      if (batch?.status === 'ended') return batch;
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }

  async function results(id: string) {
    let text = '';
    for await (const page of store.readResults(id, 100)) text += page;
    return new Map(text.trim().split('\n').map((line) => {
      const parsed = JSON.parse(line) as { custom_id: string; result: { type: string; error?: { error: { type: string; message: string }; message?: string } } };
      return [parsed.custom_id, parsed.result] as const;
    }));
  }

  it('runs every request once with at most `concurrency` calls in flight', async () => {
    const backend = new ScriptedBackend(async (text) => {
      await new Promise((resolve) => setTimeout(resolve, 2));
      return reply(text);
    });
    const texts = Array.from({ length: 60 }, (_, i) => `hello ${i}`);
    const { batch } = await setup(backend, texts, 5);
    const done = await ended(batch.id);
    expect(done.counts).toEqual({ processing: 0, succeeded: 60, errored: 0, canceled: 0, expired: 0 });
    expect(backend.maxInFlight).toBeLessThanOrEqual(5);
    expect([...backend.calls.values()].every((n) => n === 1)).toBe(true);
    expect(done.usage.input_tokens).toBeGreaterThan(0);
  });

  it('retries transient failures and reports permanent ones with the provider error', async () => {
    const backend = new ScriptedBackend(async (text, call) => {
      if (text === 'flaky' && call < 3) return transient;
      if (text === 'doomed') return transient;
      if (text === 'denied') return { kind: 'error', retryable: false, status: 403, errorType: 'permission_error', message: 'no access' };
      return reply(text);
    });
    const { batch } = await setup(backend, ['flaky', 'doomed', 'denied', 'fine']);
    const done = await ended(batch.id);
    const byId = await results(done.id);
    expect(byId.get('c0')!.type).toBe('succeeded');
    expect(backend.calls.get('flaky')).toBe(3);
    expect(byId.get('c1')!.error!.error).toEqual({ type: 'overloaded_error', message: 'Overloaded' });
    expect(backend.calls.get('doomed')).toBe(3);
    expect(byId.get('c2')!.error!.error).toEqual({ type: 'permission_error', message: 'no access' });
    expect(backend.calls.get('denied')).toBe(1);
    expect(done.counts).toMatchObject({ succeeded: 2, errored: 2 });
  });

  it('rejects invalid params without calling the backend', async () => {
    const backend = new ScriptedBackend(async (text) => reply(text));
    dir = mkdtempSync(join(tmpdir(), 'batchd-engine-'));
    store = new SqliteStore(join(dir, 'db.sqlite'));
    const now = Date.now();
    const batch = await store.createBatch(
      { id: 'msgbatch_01invalid', workspaceId: 'w', createdAt: now, expiresAt: now + 60_000, archiveAt: now + 120_000 },
      (async function* () {
        yield [{ customId: 'bad', params: '{"model":"m","messages":[{"role":"user","content":"x"}],"stream":true,"max_tokens":5}' }];
      })(),
    );
    startEngine(backend, 2);
    await ended(batch.id);
    const result = (await results(batch.id)).get('bad')!;
    expect(result.type).toBe('errored');
    expect(result.error!.error.type).toBe('invalid_request_error');
    expect(result.error!.error.message).toMatch(/^stream/);
    expect(result.error!.message).toBe(result.error!.error.message);
    expect(backend.calls.size).toBe(0);
  });

  it('keeps results it could not write and writes them once the database accepts writes again', async () => {
    const backend = new ScriptedBackend(async (text) => reply(text));
    dir = mkdtempSync(join(tmpdir(), 'batchd-engine-'));
    let failures = 0;
    class FlakyStore extends SqliteStore {
      override async completeRequests(...args: Parameters<SqliteStore['completeRequests']>) {
        if (failures < 3) {
          failures++;
          throw new Error('SQLITE_FULL: database or disk is full');
        }
        return super.completeRequests(...args);
      }
    }
    store = new FlakyStore(join(dir, 'db.sqlite'));
    const now = Date.now();
    const batch = await store.createBatch(
      { id: 'msgbatch_01flaky', workspaceId: 'w', createdAt: now, expiresAt: now + 60_000, archiveAt: now + 120_000 },
      (async function* () {
        yield Array.from({ length: 10 }, (_, i) => ({ customId: `f${i}`, params: params(`full ${i}`) }));
      })(),
    );
    startEngine(backend, 4);
    const done = await ended(batch.id);
    expect(failures).toBe(3);
    expect(done.counts.succeeded).toBe(10);
    expect([...backend.calls.values()].every((n) => n === 1)).toBe(true);
  });

  it('writes an answer at once, grouping only the answers that arrive while a write is under way', async () => {
    const answer = new Map<string, () => void>();
    const backend = new ScriptedBackend(async (text) => {
      await new Promise<void>((resolve) => answer.set(text, resolve));
      return reply(text);
    });
    dir = mkdtempSync(join(tmpdir(), 'batchd-engine-'));
    const writes: number[] = [];
    let endFirstWrite!: () => void;
    const firstWrite = new Promise<void>((resolve) => (endFirstWrite = resolve));
    class SlowStore extends SqliteStore {
      override async completeRequests(...args: Parameters<SqliteStore['completeRequests']>) {
        writes.push(args[1].length);
        if (writes.length === 1) await firstWrite;
        return super.completeRequests(...args);
      }
    }
    store = new SlowStore(join(dir, 'db.sqlite'));
    const now = Date.now();
    const batch = await store.createBatch(
      { id: 'msgbatch_01window', workspaceId: 'w', createdAt: now, expiresAt: now + 60_000, archiveAt: now + 120_000 },
      (async function* () {
        yield ['a', 'b', 'c'].map((text) => ({ customId: text, params: params(text) }));
      })(),
    );
    startEngine(backend, 3);
    const until = async (done: () => boolean) => {
      while (!done()) await new Promise((resolve) => setTimeout(resolve, 2));
    };
    await until(() => answer.size === 3);
    answer.get('a')!();
    await until(() => writes.length === 1);
    answer.get('b')!();
    answer.get('c')!();
    await until(() => backend.inFlight === 0);
    expect(writes, 'the first answer is written alone, and nothing else while that write is under way').toEqual([1]);
    endFirstWrite();
    expect((await ended(batch.id)).counts.succeeded).toBe(3);
    expect(writes, 'the answers that arrived during the first write are written together right after it').toEqual([1, 2]);
  });

  it.each([
    ['by this process', true],
    ['by another process', false],
  ])('sends no request claimed ahead once its batch is canceled %s', async (_, toldDirectly) => {
    let cancel = () => {};
    const backend = new ScriptedBackend(async (text) => {
      if (text === 'first') {
        cancel();
        await new Promise((resolve) => setTimeout(resolve, 600));
      }
      return reply(text);
    });
    const { batch } = await setup(backend, ['first', 'second', 'third', 'fourth'], 1);
    // One call at a time, four requests held: three wait for the slot when the cancel comes.
    await engines.pop()!.stop(0);
    const engine = new Engine({
      store, lanes: new Lanes([new BackendLane({ name: 'scripted', backend, models: ['*'], ceiling: 1 })]),
      clock: systemClock, logger, owner: 'owner-held', maxHeld: 4, leaseMs: 60_000,
      retry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 5, random: () => 0.5 }, pollIntervalMs: 10,
    });
    engines.push(engine);
    cancel = () => {
      cancel = () => {};
      void store.cancelBatch('w', batch.id, Date.now()).then(() => toldDirectly && engine.batchCanceling(batch.id));
    };
    engine.start();
    const done = await ended(batch.id);
    expect(done.counts).toEqual({ processing: 0, succeeded: 1, errored: 0, canceled: 3, expired: 0 });
    expect([...backend.calls.keys()]).toEqual(['first']);
  });

  it('on stop puts unfinished calls back in the queue for the next engine', async () => {
    let hang = true;
    const backend = new ScriptedBackend(async (text, _call, signal) => {
      if (hang) await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
      return reply(text);
    });
    const texts = Array.from({ length: 6 }, (_, i) => `t${i}`);
    const { batch, engine } = await setup(backend, texts, 3);
    while (backend.inFlight < 3) await new Promise((resolve) => setTimeout(resolve, 2));
    await engine.stop(5);
    engines.splice(engines.indexOf(engine), 1);
    expect((await store.getBatch('w', batch.id))!.counts.processing).toBe(6);
    hang = false;
    startEngine(backend, 3);
    const done = await ended(batch.id);
    expect(done.counts.succeeded).toBe(6);
    expect((await results(batch.id)).size).toBe(6);
  });
});
