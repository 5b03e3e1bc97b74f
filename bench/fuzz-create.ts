import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { Worker } from 'node:worker_threads';
import { BatchdClient } from './support/batchd-client.js';
import { BatchdProcess } from './support/batchd-process.js';
import { MODEL } from './support/request-bodies.js';

/**
 * Hostile create bodies against a fresh `batchd serve` each (emulator backend, SQLite): deep
 * nesting, huge strings, many keys, many values, many requests, up to the 256 MB body limit, and
 * the same shapes on `POST /v1/messages`. For each: the answer, how the batch ended, the server's
 * peak RSS (`VmHWM`) over the whole case (receiving and running), and the longest a `/health`
 * poll (every 50 ms, on its own connection) took meanwhile. Prints a markdown table; exits 1 when
 * a case passes the budget or the server died.
 *
 *   npm run fuzz-create             every case
 *   npm run fuzz-create -- deep     the cases whose name contains "deep"
 *   FUZZ_CPU_PROFILE_DIR=dir        also writes each server's CPU profile (`--cpu-prof`) there
 */

const MiB = 1024 * 1024;
const BUDGET = { peakRssMiB: 400, healthMs: 1000 };
const HEALTH_EVERY_MS = 50;
const END_TIMEOUT_MS = 600_000;

type Pieces = () => Generator<string>;

interface Case {
  name: string;
  path: '/v1/messages/batches' | '/v1/messages';
  body: Pieces;
}

const head = `{"model":"${MODEL}","max_tokens":16,"messages":[{"role":"user","content":"fuzz"}]`;

/** Params with `extra` as the value of one more field, given in pieces. */
function* params(extra: () => Generator<string>): Generator<string> {
  yield `${head},"extra":`;
  yield* extra();
  yield '}';
}

/** `open`, then `count` items joined by commas in pieces of about 1 MiB, then `close`. */
function* repeated(open: string, item: (i: number) => string, count: number, close: string): Generator<string> {
  let piece = open;
  for (let i = 0; i < count; i++) {
    piece += (i === 0 ? '' : ',') + item(i);
    if (piece.length >= MiB) {
      yield piece;
      piece = '';
    }
  }
  yield piece + close;
}

const text = (bytes: number) =>
  function* string() {
    yield '"';
    for (let left = bytes; left > 0; left -= MiB) yield 'x'.repeat(Math.min(MiB, left));
    yield '"';
  };
const emptyObjects = (count: number) => () => repeated('[', () => '{}', count, ']');
const manyKeys = (count: number) => () => repeated('{', (i) => `"k${i}":${i}`, count, '}');
const one = function* one() {
  yield '1';
};
const nested = (depth: number) =>
  function* nest() {
    yield '{"a":'.repeat(depth);
    yield '1';
    yield '}'.repeat(depth);
  };

/** A create body of `count` requests whose params come from `paramsOf`. */
function* batch(count: number, paramsOf: () => Generator<string>): Generator<string> {
  yield '{"requests":[';
  for (let i = 0; i < count; i++) {
    yield `${i === 0 ? '' : ','}{"custom_id":"r${i}","params":`;
    yield* paramsOf();
    yield '}';
  }
  yield ']}';
}

/** As many requests of `paramsOf` as fit in `bytes`, measured on the first. */
function filling(bytes: number, paramsOf: () => Generator<string>): Pieces {
  let one = 20;
  for (const piece of paramsOf()) one += piece.length;
  return () => batch(Math.max(1, Math.floor(bytes / one)), paramsOf);
}

const CASES: Case[] = [
  { name: 'one request, 16 MB of {"x":[{},{},…]}', path: '/v1/messages/batches', body: () => batch(1, () => params(emptyObjects(5_600_000))) },
  { name: '30 MB of [{},{},…] in POST /v1/messages', path: '/v1/messages', body: () => params(emptyObjects(10_000_000)) },
  { name: 'deep: params nested 64 levels (the limit)', path: '/v1/messages/batches', body: () => batch(1, () => params(nested(63))) },
  { name: 'deep: params nested 100,000 levels', path: '/v1/messages/batches', body: () => batch(1, () => params(nested(100_000))) },
  { name: 'deep: POST /v1/messages nested 100,000 levels', path: '/v1/messages', body: () => params(nested(100_000)) },
  { name: 'huge string: 20 MB of plain text', path: '/v1/messages/batches', body: () => batch(1, () => params(text(20 * MiB))) },
  { name: 'huge string: 40 MB, over the 32 MiB params limit', path: '/v1/messages/batches', body: () => batch(1, () => params(text(40 * MiB))) },
  { name: 'huge strings: 250 MB, eight requests of 31 MB', path: '/v1/messages/batches', body: filling(250 * MiB, () => params(text(31 * MiB))) },
  { name: 'huge string: 30 MB in POST /v1/messages', path: '/v1/messages', body: () => params(text(30 * MiB)) },
  { name: 'many keys: 250 MB of params with 49,990 keys each', path: '/v1/messages/batches', body: filling(250 * MiB, () => params(manyKeys(49_990))) },
  { name: 'many values: 250 MB of params with 99,980 {} each', path: '/v1/messages/batches', body: filling(250 * MiB, () => params(emptyObjects(99_980))) },
  { name: 'many values: one request over the 100,000 limit', path: '/v1/messages/batches', body: () => batch(1, () => params(emptyObjects(100_000))) },
  { name: 'many requests: 100,000 small requests', path: '/v1/messages/batches', body: () => batch(100_000, () => params(one)) },
  { name: 'many requests: 250 MB of 64 KB requests', path: '/v1/messages/batches', body: filling(250 * MiB, () => params(text(64 * 1024))) },
];

interface Outcome {
  status: number;
  text: string;
  bytesSent: number;
}

/** POSTs the pieces with chunked transfer encoding and backpressure; stops sending once answered. */
function post(url: string, path: string, pieces: Pieces): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    let bytesSent = 0;
    const source = Readable.from(
      (function* counted() {
        for (const piece of pieces()) {
          const bytes = Buffer.from(piece);
          bytesSent += bytes.length;
          yield bytes;
        }
      })(),
    );
    const req = request(`${url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': 'fuzz-key', 'anthropic-version': '2023-06-01' },
    });
    req.on('response', (res) => {
      source.unpipe(req);
      source.destroy();
      const parts: Buffer[] = [];
      res.on('data', (part: Buffer) => parts.push(part));
      res.on('end', () => {
        resolve({ status: res.statusCode ?? 0, text: Buffer.concat(parts).toString('utf8'), bytesSent });
        req.destroy();
      });
    });
    req.on('error', (error) => reject(error));
    source.pipe(req);
  });
}

/**
 * Polls `/health` every 50 ms from a thread of its own, so generating the body here never delays
 * a poll; keeps the longest answer time and counts failures.
 */
const POLLER = `
const { parentPort, workerData } = require('node:worker_threads');
const http = require('node:http');
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
let longestMs = 0, failures = 0, running = true;
parentPort.on('message', () => (running = false));
function poll() {
  if (!running) return parentPort.postMessage({ longestMs, failures });
  const start = performance.now();
  const done = (ok) => {
    if (!ok) failures++;
    longestMs = Math.max(longestMs, performance.now() - start);
    setTimeout(poll, ${HEALTH_EVERY_MS});
  };
  http.get(workerData.url + '/health', { agent }, (res) => {
    res.resume();
    res.on('end', () => done(res.statusCode === 200));
  }).on('error', () => done(false));
}
poll();
`;

class HealthPoller {
  private readonly worker: Worker;

  constructor(url: string) {
    this.worker = new Worker(POLLER, { eval: true, workerData: { url } });
  }

  /** Stops polling; the longest answer time and the failures. */
  async stop(): Promise<{ longestMs: number; failures: number }> {
    const result = once(this.worker, 'message') as Promise<[{ longestMs: number; failures: number }]>;
    this.worker.postMessage('stop');
    const [figures] = await result;
    await this.worker.terminate();
    return figures;
  }
}

interface Row {
  name: string;
  sentMB: number;
  answer: string;
  ended: string;
  peakRssMiB: number;
  healthMs: number;
  ok: boolean;
}

async function runCase(fuzz: Case, dir: string): Promise<Row> {
  const server = await BatchdProcess.start({ dir, flags: { backend: 'emulator' }, cpuProfileDir: process.env.FUZZ_CPU_PROFILE_DIR });
  const client = new BatchdClient(server.url, 'fuzz-key', 4);
  const poller = new HealthPoller(server.url);
  let answer = 'no answer';
  let ended = '';
  let sentMB = 0;
  try {
    const outcome = await post(server.url, fuzz.path, fuzz.body);
    sentMB = outcome.bytesSent / 1e6;
    const body = JSON.parse(outcome.text) as { id?: string; error?: { message: string } };
    answer = `${outcome.status}${body.error ? ` ${body.error.message.slice(0, 70)}` : ''}`;
    if (fuzz.path === '/v1/messages/batches' && outcome.status === 200 && body.id) {
      const view = await client.waitForEnd(body.id, 500, END_TIMEOUT_MS);
      ended = Object.entries(view.request_counts).filter(([, n]) => n > 0).map(([kind, n]) => `${n} ${kind}`).join(', ');
    }
  } catch (error) {
    answer = `failed: ${(error as Error).message.slice(0, 70)}`;
  }
  const health = await poller.stop();
  const peakRssMiB = server.memory().peakRssBytes / MiB;
  const healthMs = health.longestMs;
  const ok = health.failures === 0 && peakRssMiB <= BUDGET.peakRssMiB && healthMs <= BUDGET.healthMs && !answer.startsWith('5') && !answer.startsWith('failed');
  client.close();
  await server.stop();
  return { name: fuzz.name, sentMB, answer, ended, peakRssMiB, healthMs, ok };
}

async function main(): Promise<void> {
  const filters = process.argv.slice(2);
  const cases = CASES.filter((fuzz) => filters.length === 0 || filters.some((filter) => fuzz.name.includes(filter)));
  const root = mkdtempSync(join(tmpdir(), 'batchd-fuzz-'));
  const rows: Row[] = [];
  try {
    for (const [index, fuzz] of cases.entries()) {
      const row = await runCase(fuzz, join(root, String(index)));
      rows.push(row);
      console.error(`[fuzz-create] ${row.name}: ${row.answer}; peak RSS ${row.peakRssMiB.toFixed(0)} MiB, /health ≤ ${row.healthMs.toFixed(0)} ms`);
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
  console.log(`Budget: server peak RSS ≤ ${BUDGET.peakRssMiB} MiB, every /health answered within ${BUDGET.healthMs} ms.`);
  console.log(`Machine: ${cpus().length} cores, load average ${loadavg()[0]!.toFixed(1)} at the end (a loaded machine lengthens /health times).\n`);
  console.log('| case | sent MB | answer | ended | peak RSS MiB | longest /health ms | within budget |');
  console.log('|---|---:|---|---|---:|---:|---|');
  for (const row of rows) {
    const cells = [row.name, row.sentMB.toFixed(1), row.answer.replaceAll('|', '\\|'), row.ended || '–', row.peakRssMiB.toFixed(0), row.healthMs.toFixed(0), row.ok ? 'yes' : '**no**'];
    console.log(`| ${cells.join(' | ')} |`);
  }
  if (rows.some((row) => !row.ok)) process.exitCode = 1;
}

await main();
