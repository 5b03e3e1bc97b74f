/**
 * Reading an unchecked chat completions request body: accessors that stop the translation at the
 * first param that cannot be carried over, with a message naming it (`<param>: <problem>`).
 */

export type Json = Record<string, unknown>;

/** Thrown inside a translation to stop at the first param that cannot be carried over. */
export class Untranslatable extends Error {}

export function unsupported(param: string): Untranslatable {
  return new Untranslatable(`${param}: not supported by the Messages backend`);
}

export function invalid(param: string, problem = 'invalid value'): Untranslatable {
  return new Untranslatable(`${param}: ${problem}`);
}

export function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function objectAt(value: unknown, path: string): Json {
  if (!isObject(value)) throw invalid(path);
  return value;
}

export function stringAt(value: unknown, path: string): string {
  if (typeof value !== 'string') throw invalid(path);
  return value;
}

export function arrayAt(value: unknown, path: string): unknown[] {
  if (!Array.isArray(value)) throw invalid(path);
  return value;
}

/** A key as it appears in a param path: as is when it is an identifier, else quoted as JSON. */
export function keyName(key: string): string {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(key) ? key : JSON.stringify(key);
}

/** Rejects any key of `object` outside `allowed` whose value is not null. */
export function onlyKeys(object: Json, path: string, allowed: readonly string[]): void {
  for (const [key, value] of Object.entries(object)) {
    if (value !== null && !allowed.includes(key)) throw unsupported(`${path}.${keyName(key)}`);
  }
}
