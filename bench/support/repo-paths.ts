import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The repository root, found by walking up to the workspace's package.json, so the same code
 * works from `bench/` sources and from the compiled `bench/dist/bench/`.
 */
function findRepoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let depth = 0; depth < 10; depth++) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, 'utf8')) as { workspaces?: unknown }).workspaces) return dir;
    dir = dirname(dir);
  }
  throw new Error('could not find the batchd repository root above the benchmark files');
}

export const REPO_ROOT = findRepoRoot();
/** The `batchd` every scenario starts: this repository's build, or another one's `main.js` named by `BATCHD_BENCH_MAIN` (alternating builds). */
export const BATCHD_MAIN = process.env.BATCHD_BENCH_MAIN ?? join(REPO_ROOT, 'packages/server/dist/main.js');
/** Where the compiled benchmark's own modules live (child-process entry points). */
export const BENCH_DIST = join(REPO_ROOT, 'bench/dist/bench');
