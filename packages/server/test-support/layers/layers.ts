import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import ts from 'typescript';

/**
 * The layers of `packages/server/src`, top first. A file may import from its own unit and from any
 * unit of a lower layer; units that share a layer are siblings and import nothing from each other.
 * A unit is a folder (ending in `/`, the longest one matching wins) or a single file.
 */
export const LAYERS: readonly (readonly string[])[] = [
  ['main.ts'],
  ['cli/admin/'], // serve, run, keys: `run` drives the client's job runner
  ['cli/client/'],
  ['cli/'], // what both kinds of command share: errors, exit codes, tables, colours
  ['server.ts'],
  ['http/app.ts'], // mounts the three surfaces
  ['http/anthropic/', 'http/openai/', 'http/batchd/'],
  ['http/'], // the shared core: errors, auth, limits, body reading
  ['webhooks/'], // below http/: the webhook routes check URLs with webhooks/public-fetch.ts
  ['engine/'],
  ['translate/', 'wire/', 'config.ts'], // config.ts parses backend lists with backends/backend-spec.ts
  ['store/', 'backends/'],
  ['pricing/'], // prices by model; the store keeps what they come to
  ['clock.ts', 'ids.ts', 'json.ts', 'dashboard-dir.ts', 'large-garbage.ts', 'model-pattern.ts', 'own-turn.ts', 'spool.ts'],
];

export interface UpwardImport {
  file: string;
  specifier: string;
  reason: string;
}

/** The unit a path relative to `src` belongs to, with its layer (0 is the top). */
export function unitOf(path: string): { unit: string; layer: number } | undefined {
  let best: { unit: string; layer: number } | undefined;
  LAYERS.forEach((units, layer) => {
    for (const unit of units) {
      const matches = unit.endsWith('/') ? path.startsWith(unit) : path === unit;
      if (matches && (best === undefined || unit.length > best.unit.length)) best = { unit, layer };
    }
  });
  return best;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') ? [path] : [];
  });
}

/** Every relative import (static, re-export or `import()`) of a non-test file that breaks the layers. */
export function upwardImports(srcDir: string): UpwardImport[] {
  const found: UpwardImport[] = [];
  for (const path of sourceFiles(srcDir)) {
    const file = relative(srcDir, path).split(sep).join('/');
    const from = unitOf(file);
    if (from === undefined) {
      found.push({ file, specifier: '', reason: 'is in no layer of the table' });
      continue;
    }
    const { importedFiles } = ts.preProcessFile(readFileSync(path, 'utf8'), true, true);
    for (const { fileName: specifier } of importedFiles) {
      if (!specifier.startsWith('.')) continue;
      const target = relative(srcDir, resolve(dirname(path), specifier)).split(sep).join('/').replace(/\.js$/, '.ts');
      const to = unitOf(target);
      if (to === undefined) found.push({ file, specifier, reason: `imports ${target}, which is in no layer` });
      else if (to.unit === from.unit || to.layer > from.layer) continue;
      else if (to.layer === from.layer) found.push({ file, specifier, reason: `imports its sibling ${to.unit}` });
      else found.push({ file, specifier, reason: `(${from.unit}) imports the higher layer ${to.unit}` });
    }
  }
  return found;
}
