import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ScenarioResult } from './support/report.js';
import { REPO_ROOT } from './support/repo-paths.js';

/**
 * The benchmark suite at its tiny sizes, compiled and run as `npm run bench` runs it: every
 * scenario must finish and report every figure as a finite number. Nothing here judges speed.
 */

const FIGURES: Record<string, string[]> = {
  ingest: ['create time', 'throughput', 'create CPU', 'server peak RSS'],
  overhead: ['throughput vs bare loop', 'throughput', 'CPU per request'],
  saturation: ['batchd throughput', 'batchd 429 share', 'batchd throughput vs C/L', 'bare loop at C', 'SDK 16 throughput', 'SDK 512 completed'],
  'saturation-jitter': ['batchd throughput', 'batchd 429 share', 'bare loop at C'],
  results: ['stream', 'stream against a bare HTTP server', 'CPU per 100 MB, batchd + client', 'server RSS growth'],
  'small-batch': ['create → ended p50', 'beyond provider latency p50'],
  'control-plane': [
    'retrieve p50',
    'retrieve p99',
    'list p50',
    'list p99',
    'retrieve p50, clients polling every 1 s',
    'retrieve p99, clients polling every 1 s',
    'retrieve p99, clients polling every 100 ms',
  ],
  follow: ['CPU per request, followers', 'time, followers'],
  'scale-out': ['1 worker throughput', '2 workers throughput', '4 workers throughput'],
  'provider-batch': [
    'upload (create acknowledged)',
    'routing (intent written)',
    'submit (provider create answered)',
    'of which the provider handling the create',
    'provider processing',
    'poll lag (batchd saw it ended)',
    'download (results read)',
    'last results written → ended',
    'the results fetched alone',
    'the results fetched and kept alone',
    'added beyond provider processing',
    'server CPU, create acknowledged → ended',
    'server peak RSS',
  ],
  'prompt-cache': ['cache-read share', 'wall time', 'cache-read share, cache-aware off'],
  'engine-cache': ['throughput', 'hit rate', 'hit rate, arrival order'],
  replicas: ['hit rate', 'throughput'],
  million: [
    'sqlite drained throughput',
    'sqlite server peak RSS',
    'sqlite even share',
    'sqlite first / last batch end',
    'sqlite done spread at midpoint',
    'sqlite bytes on disk per request',
    'postgres drained throughput',
    'postgres server peak RSS',
    'postgres even share',
    'postgres first / last batch end',
    'postgres done spread at midpoint',
    'postgres bytes on disk per request',
    'bare loop at C',
  ],
};
for (const name of ['ingest', 'results', 'control-plane']) FIGURES[`${name}-pg`] = FIGURES[name]!;
// On PostgreSQL the stream is also held against a bare server of the rows' COPY.
FIGURES['results-pg'] = ['stream', 'stream against a bare HTTP server', 'stream against a bare COPY server', 'CPU per 100 MB, batchd + client', 'server RSS growth'];

interface Report {
  machine: { cpus: number; memoryBytes: number; node: string };
  scenarios: ScenarioResult[];
  failures: Array<{ scenario: string; error: string }>;
}

const dir = mkdtempSync(join(tmpdir(), 'batchd-bench-smoke-'));
let report: Report;
let output = '';

beforeAll(() => {
  const compile = spawnSync(process.execPath, [join(REPO_ROOT, 'node_modules/typescript/bin/tsc'), '-p', join(REPO_ROOT, 'bench/tsconfig.json')], {
    encoding: 'utf8',
  });
  if (compile.status !== 0) throw new Error(`compiling the benchmark failed:\n${compile.stdout}${compile.stderr}`);
  const resultsPath = join(dir, 'latest.json');
  const run = spawnSync(process.execPath, [join(REPO_ROOT, 'bench/dist/bench/run.js'), '--scale', 'tiny', '--results', resultsPath], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    timeout: 420_000,
  });
  output = `${run.stdout}${run.stderr}`;
  report = JSON.parse(readFileSync(resultsPath, 'utf8')) as Report;
}, 480_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('npm run bench at tiny sizes', () => {
  it('runs every scenario without failure', () => {
    expect(report.failures, output).toEqual([]);
    expect(report.scenarios.map((s) => s.scenario)).toEqual(Object.keys(FIGURES));
  });

  it('records the machine it ran on', () => {
    expect(report.machine.cpus).toBeGreaterThan(0);
    expect(report.machine.memoryBytes).toBeGreaterThan(0);
    expect(report.machine.node).toMatch(/^v\d+/);
  });

  it.each(Object.entries(FIGURES))('%s reports every figure as a finite number', (name, figures) => {
    const scenario = report.scenarios.find((s) => s.scenario === name);
    expect(scenario, output).toBeDefined();
    expect(scenario!.figures.map((f) => f.name)).toEqual(figures);
    for (const f of scenario!.figures) {
      expect(Number.isFinite(f.value), `${name} ${f.name} = ${f.value}`).toBe(true);
      if (f.baseline) {
        expect(Number.isFinite(f.baseline.value), `${name} ${f.name} baseline`).toBe(true);
        expect(Number.isFinite(f.ratio), `${name} ${f.name} ratio`).toBe(true);
      }
      if (f.target) expect(typeof f.pass).toBe('boolean');
    }
    for (const [key, value] of Object.entries(scenario!.details)) {
      if (typeof value === 'number') expect(Number.isFinite(value), `${name} ${key}`).toBe(true);
    }
  });
});
