import { isObject, type Json } from '../json.js';

/**
 * Reading an unchecked request body during a translation: accessors that stop it at the first
 * param that cannot be carried over, with a message naming it (`<param>: <problem>`).
 */

/** Thrown inside a translation to stop at the first param that cannot be carried over. */
export class Untranslatable extends Error {}

/** Runs a translation: its result, or `{error}` with the message of the first param it could not carry over. */
export function untranslatableAsError<T>(translate: () => T): T | { error: string } {
  try {
    return translate();
  } catch (error) {
    if (error instanceof Untranslatable) return { error: error.message };
    throw error;
  }
}

export function invalid(param: string, problem = 'invalid value'): Untranslatable {
  return new Untranslatable(`${param}: ${problem}`);
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

/** What a translation's target refuses: params it cannot carry, keys it does not know. */
export interface TargetRules {
  unsupported(param: string): Untranslatable;
  /** Rejects any key of `object` outside `allowed`, except those the target passes over. */
  onlyKeys(object: Json, path: string, allowed: readonly string[]): void;
}

function targetRules(target: string, passedOver: (key: string, value: unknown) => boolean, name: (key: string) => string): TargetRules {
  const unsupported = (param: string) => new Untranslatable(`${param}: not supported by the ${target}`);
  return {
    unsupported,
    onlyKeys(object, path, allowed) {
      for (const [key, value] of Object.entries(object)) {
        if (!passedOver(key, value) && !allowed.includes(key)) throw unsupported(`${path}.${name(key)}`);
      }
    },
  };
}

/** Chat completions → Messages: a key whose value is null is as good as absent. */
export const TO_MESSAGES = targetRules('Messages backend', (_key, value) => value === null, keyName);

/** Messages → chat completions: `cache_control` is always allowed (and dropped). */
export const TO_CHAT = targetRules('OpenAI-compatible backend', (key) => key === 'cache_control', (key) => key);

/** Responses → chat completions: a key whose value is null is as good as absent. */
export const FROM_RESPONSES = targetRules('translation of Responses requests to chat completions', (_key, value) => value === null, keyName);
