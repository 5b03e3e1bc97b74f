import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { unitOf, upwardImports } from '../test-support/layers/layers.js';

const SRC = fileURLToPath(new URL('.', import.meta.url));

describe('layers', () => {
  it('finds no file importing from a higher layer, a sibling or outside the table', () => {
    const lines = upwardImports(SRC).map(({ file, specifier, reason }) => `${file}: '${specifier}' ${reason}`);
    expect(lines).toEqual([]);
  });

  it('places a file in the longest folder that holds it', () => {
    expect(unitOf('http/anthropic/batch-routes.ts')?.unit).toBe('http/anthropic/');
    expect(unitOf('http/api-error.ts')?.unit).toBe('http/');
    expect(unitOf('store/sqlite/sqlite-store.ts')?.unit).toBe('store/');
    expect(unitOf('unknown.ts')).toBeUndefined();
  });
});
