import { toFile } from 'openai';
import type OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chatLine, openAIClient, waitForBatch } from '../../test-support/api/openai.js';
import { startServer, type ServerHandle } from '../../test-support/process/server-process.js';
import { processMemory } from '../../test-support/process/process-memory.js';

/**
 * OpenAI batch input files with extreme lines, on a real server: one of 64 MiB (over the 32 MiB
 * line cap: the batch fails naming that line), one nesting 30 MiB of brackets (past the 64
 * levels a body may have), 20,000 ordinary lines, and one line of 25 MiB
 * (accepted and run). While each batch is created, a poller asks `/health` again and again: every
 * poll must be answered (the longest gap between answers is printed, not asserted), and the
 * server's peak memory (VmHWM) stays bounded.
 */

const MiB = 1024 * 1024;
const MAX_LINE_BYTES = 32 * MiB;
/**
 * Peak memory allowed to the server after the 64 MiB line and the 30 MiB of brackets (checked
 * first, on a fresh server): the first is dropped as it streams, the second read without being
 * parsed; joining the first, or parsing either, would pass this.
 */
const OVER_CAP_RSS_LIMIT_MIB = 256;
/** Peak memory allowed to the server at the end, after running the 25 MiB line: about twenty copies of it. */
const PEAK_RSS_LIMIT_MIB = 768;
const POLL_PAUSE_MS = 10;

interface HealthPolls {
  polls: number;
  failures: string[];
  longestGapMs: number;
}

/** Asks `/health` one poll after another until stopped, recording failures and the longest time between answers. */
function pollHealth(url: string): { stop(): Promise<HealthPolls> } {
  const result: HealthPolls = { polls: 0, failures: [], longestGapMs: 0 };
  let running = true;
  const done = (async () => {
    let last = performance.now();
    while (running) {
      try {
        const response = await fetch(`${url}/health`);
        await response.text();
        if (response.status !== 200) result.failures.push(`status ${response.status}`);
      } catch (error) {
        result.failures.push(String(error));
      }
      const now = performance.now();
      result.longestGapMs = Math.max(result.longestGapMs, now - last);
      last = now;
      result.polls++;
      await new Promise((resolve) => setTimeout(resolve, POLL_PAUSE_MS));
    }
  })();
  return {
    async stop() {
      running = false;
      await done;
      return result;
    },
  };
}

const jsonl = (lines: unknown[]) => Buffer.from(lines.map((line) => JSON.stringify(line)).join('\n') + '\n');

describe('OpenAI input files with extreme lines', () => {
  let server: ServerHandle;
  let client: OpenAI;
  const gaps: string[] = [];

  beforeAll(async () => {
    server = await startServer({ flags: { 'log-level': 'error' } });
    client = openAIClient(server.url);
  });

  afterAll(() => {
    const memory = processMemory(server.pid);
    console.log(`[reliability] input lines: longest /health gap ${gaps.join(', ')}; server VmHWM ${memory.peakRssMiB.toFixed(0)} MiB`);
  });

  /** Uploads `content`, then creates a batch from it while `/health` is polled; the batch when create answers. */
  async function createPolled(what: string, content: Buffer) {
    const file = await client.files.create({ file: await toFile(content, `${what}.jsonl`), purpose: 'batch' });
    const poller = pollHealth(server.url);
    const batch = await client.batches
      .create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' })
      .finally(async () => {
        const polls = await poller.stop();
        gaps.push(`${what} ${polls.longestGapMs.toFixed(0)} ms (${polls.polls} polls, VmHWM ${processMemory(server.pid).peakRssMiB.toFixed(0)} MiB)`);
        expect(polls.failures).toEqual([]);
        expect(polls.polls).toBeGreaterThan(0);
      });
    return batch;
  }

  it('fails a batch whose line is over the cap, naming the line, and reads on past it', async () => {
    const over = chatLine('over', 'b'.repeat(64 * MiB));
    const batch = await createPolled('64 MiB line', jsonl([chatLine('first', 'hi'), over, { custom_id: 'after' }]));
    expect(batch.status).toBe('failed');
    expect(batch.errors?.data).toEqual([
      { code: 'line_too_long', line: 2, param: null, message: `Line 2 is longer than the maximum of ${MAX_LINE_BYTES} bytes.` },
      { code: 'invalid_value', line: 3, param: 'method', message: expect.any(String) },
    ]);
    expect(processMemory(server.pid).peakRssMiB).toBeLessThan(OVER_CAP_RSS_LIMIT_MIB);
  });

  it('fails a batch whose line nests 30 MiB of brackets, without building them', async () => {
    const brackets = 15 * MiB;
    const deep = `{"custom_id":"deep","method":"POST","url":"/v1/chat/completions","body":{"model":"m","x":${'['.repeat(brackets)}${']'.repeat(brackets)}}}`;
    const batch = await createPolled('30 MiB of brackets', Buffer.from(`${JSON.stringify(chatLine('first', 'hi'))}\n${deep}\n`));
    expect(batch.status).toBe('failed');
    expect(batch.errors?.data).toEqual([{ code: 'invalid_value', line: 2, param: 'body', message: 'Line 2: body is nested deeper than the maximum of 64 levels.' }]);
    expect(processMemory(server.pid).peakRssMiB).toBeLessThan(OVER_CAP_RSS_LIMIT_MIB);
  });

  it('creates a batch of 20,000 lines', async () => {
    const lines = Array.from({ length: 20_000 }, (_, i) => chatLine(`r${i}`, `${i} ${'x'.repeat(400)}`));
    const batch = await createPolled('20,000 lines', jsonl(lines));
    expect(batch.errors ?? null).toBeNull();
    expect(batch.request_counts?.total).toBe(20_000);
  });

  it('runs a 25 MiB line', async () => {
    const text = 'a'.repeat(25 * MiB);
    const batch = await createPolled('25 MiB line', jsonl([chatLine('big', text), chatLine('small', 'hi')]));
    expect(batch.errors ?? null).toBeNull();
    const ended = await waitForBatch(client, batch.id);
    expect(ended.status).toBe('completed');
    expect(ended.request_counts).toEqual({ total: 2, completed: 2, failed: 0 });
  });

  it('keeps the server within bounded memory', () => {
    expect(processMemory(server.pid).peakRssMiB).toBeLessThan(PEAK_RSS_LIMIT_MIB);
  });
});
