import { invalidRequest } from './api-error.js';

/** The query parameters `names`, each a string given at most once; a repeated one answers 400. */
export function singleValues<K extends string>(query: Partial<Record<K, unknown>>, names: readonly K[]): Partial<Record<K, string>> {
  const values: Partial<Record<K, string>> = {};
  for (const name of names) {
    const value = query[name];
    if (value === undefined) continue;
    if (typeof value !== 'string') throw invalidRequest(`${name}: give it once`);
    values[name] = value;
  }
  return values;
}
