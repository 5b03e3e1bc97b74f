import fc from 'fast-check';

/**
 * What the property tests of the translations share: the shape of the error naming a param, and
 * generators of JSON and of mostly-valid values.
 */

/** `<param path>: <problem>`, the path's keys as identifiers, indexes or JSON strings, with an optional `(note)`. */
export const PARAM_ERROR = /^(?:[A-Za-z_][A-Za-z0-9_]*|"(?:[^"\\]|\\.)*")(?:\.(?:[A-Za-z0-9_]+|"(?:[^"\\]|\\.)*"))*(?: \(.*\))?: \S/s;
export const json = fc.jsonValue({ maxDepth: 3 });
export const text = fc.string({ minLength: 1, maxLength: 20 });

/** Mostly `valid`, sometimes `other` (any JSON value unless given) in its place. */
export const mostly = <T>(valid: fc.Arbitrary<T>, other: fc.Arbitrary<unknown> = json): fc.Arbitrary<unknown> =>
  fc.oneof({ arbitrary: valid, weight: 19 }, { arbitrary: other, weight: 1 });
