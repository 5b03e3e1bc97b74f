import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { REPO_ROOT } from '../support/repo-paths.js';

/**
 * A preload that counts a batchd process's store calls: how many claim, complete, renew and
 * retry calls it made, the rows they carried and the time they took. Load it into the servers a
 * benchmark starts with
 *
 *   BENCH_STORE_CALLS_DIR=/tmp/calls NODE_OPTIONS="--import ./bench/dist/bench/probes/store-calls.js" \
 *     node bench/dist/bench/run.js overhead
 *
 * and each batchd process writes `store-calls-<pid>.json` into that directory when it exits.
 * Processes other than `batchd serve` are left alone.
 */

interface CallCount {
  calls: number;
  rows: number;
  emptyCalls: number;
  ms: number;
}

type StoreMethod = (...args: unknown[]) => Promise<unknown>;

interface StoreModule {
  SqliteStore: { prototype: Record<string, StoreMethod> };
}

const ROWS_OF: Record<string, (args: unknown[], result: unknown) => number> = {
  claimRequests: (_args, result) => (result as unknown[]).length,
  completeRequests: (args) => (args[1] as unknown[]).length,
  renewLeases: (args) => (args[1] as unknown[]).length,
  retryRequests: (args) => (args[1] as unknown[]).length,
};

const outDir = process.env.BENCH_STORE_CALLS_DIR;
if (outDir !== undefined && process.argv[1]?.endsWith(join('packages', 'server', 'dist', 'main.js'))) {
  const url = pathToFileURL(join(REPO_ROOT, 'packages/server/dist/store/sqlite/sqlite-store.js')).href;
  const { SqliteStore } = (await import(url)) as StoreModule;
  const counts: Record<string, CallCount> = {};
  for (const [name, rowsOf] of Object.entries(ROWS_OF)) {
    const original = SqliteStore.prototype[name]!;
    SqliteStore.prototype[name] = async function (this: unknown, ...args: unknown[]) {
      const start = performance.now();
      const result = await original.apply(this, args);
      const count = (counts[name] ??= { calls: 0, rows: 0, emptyCalls: 0, ms: 0 });
      const rows = rowsOf(args, result);
      count.calls += 1;
      count.rows += rows;
      if (rows === 0) count.emptyCalls += 1;
      count.ms += performance.now() - start;
      return result;
    };
  }
  process.on('exit', () => {
    mkdirSync(outDir, { recursive: true });
    writeFileSync(join(outDir, `store-calls-${process.pid}.json`), `${JSON.stringify(counts, null, 2)}\n`);
  });
}
