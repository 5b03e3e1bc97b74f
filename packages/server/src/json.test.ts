import { describe, expect, it } from 'vitest';
import { ANSWER_SHAPE, hasInexactNumber, parseAnswer, pastShape, withStringMember } from './json.js';

describe('hasInexactNumber', () => {
  /** A JSON number text of a random form: sign, integer digits, fraction, exponent. */
  function randomNumberText(random: () => number): string {
    const digits = (count: number) => Array.from({ length: count }, () => Math.floor(random() * 10)).join('');
    const integer = random() < 0.3 ? '0' : `${1 + Math.floor(random() * 9)}${digits(Math.floor(random() * 24))}`;
    const fraction = random() < 0.5 ? `.${digits(1 + Math.floor(random() * 20))}` : '';
    const exponent = random() < 0.2 ? `${random() < 0.5 ? 'e' : 'E'}${['', '+', '-'][Math.floor(random() * 3)]}${digits(1 + Math.floor(random() * 3))}` : '';
    return `${random() < 0.3 ? '-' : ''}${integer}${fraction}${exponent}`;
  }

  it('finds exactly the numbers a double would change, in 20,000 random ones', () => {
    let seed = 7;
    const random = () => ((seed = (seed * 48271) % 2147483647) / 2147483647);
    let inexact = 0;
    for (let i = 0; i < 20_000; i++) {
      const text = randomNumberText(random);
      const expected = String(Number(text)) !== text;
      inexact += expected ? 1 : 0;
      expect(hasInexactNumber(`{"a":[1,${text},"x"]}`), text).toBe(expected);
    }
    // Both kinds were drawn often.
    expect(inexact).toBeGreaterThan(2_000);
    expect(inexact).toBeLessThan(18_000);
  });

  it('passes numbers that are exact, and ignores what strings hold', () => {
    for (const exact of ['0', '-1', '0.5', '-0.25', '123456789012345', '1e+21', '1.5e-7', '0.000001']) expect(hasInexactNumber(`[${exact}]`), exact).toBe(false);
    expect(hasInexactNumber('{"s":"1.0 -0 1e5 12345678901234567890","t":"\\\\","u":"\\" 1.0"}')).toBe(false);
    expect(hasInexactNumber('{"s":"\\\\",  "n":1.0}')).toBe(true);
  });
});

describe('pastShape', () => {
  /** Levels and values-and-keys of a parsed JSON value, counted by walking it. */
  function shapeOf(value: unknown): { depth: number; elements: number } {
    if (typeof value !== 'object' || value === null) return { depth: 0, elements: 1 };
    const entries = Array.isArray(value) ? value.map((item) => [item, 0] as const) : Object.values(value).map((item) => [item, 1] as const);
    let depth = 0;
    let elements = 1;
    for (const [item, key] of entries) {
      const inner = shapeOf(item);
      depth = Math.max(depth, inner.depth);
      elements += inner.elements + key;
    }
    return { depth: depth + 1, elements };
  }

  /** A random JSON value: strings with quotes, escapes and brackets in them, numbers of every form, literals, nesting. */
  function randomValue(random: () => number, level: number): unknown {
    const pick = random();
    if (level < 6 && pick < 0.25) return Array.from({ length: Math.floor(random() * 5) }, () => randomValue(random, level + 1));
    if (level < 6 && pick < 0.5) {
      return Object.fromEntries(Array.from({ length: Math.floor(random() * 5) }, (_, i) => [`k${i}"[{\\`, randomValue(random, level + 1)]));
    }
    if (pick < 0.7) return ['', 'a"b', '\\', '[{', '}]', '\\"', 'é🌍\n'][Math.floor(random() * 7)];
    if (pick < 0.9) return [0, -1.5e-7, 12345678901234567890, 0.1, -0][Math.floor(random() * 5)];
    return [true, false, null][Math.floor(random() * 3)];
  }

  it('counts levels and values as a walk of the parsed value does, in 2,000 random texts', () => {
    let seed = 11;
    const random = () => ((seed = (seed * 48271) % 2147483647) / 2147483647);
    for (let i = 0; i < 2_000; i++) {
      const value = randomValue(random, 0);
      const text = JSON.stringify(value, null, i % 2 === 0 ? undefined : '\t');
      const { depth, elements } = shapeOf(value);
      expect(pastShape(text, { maxDepth: depth, maxElements: elements }), text).toBeUndefined();
      if (depth > 0) expect(pastShape(text, { maxDepth: depth - 1, maxElements: elements }), text).toBe('depth');
      expect(pastShape(text, { maxDepth: depth, maxElements: elements - 1 }), text).toBe('elements');
    }
  });

  it('stops at the first level or value past its shape', () => {
    const shape = { maxDepth: 64, maxElements: 100_000 };
    expect(pastShape('['.repeat(10_000_000), shape)).toBe('depth');
    expect(pastShape(`[${'1,'.repeat(10_000_000)}1]`, shape)).toBe('elements');
    expect(pastShape(`"${'['.repeat(1_000_000)}"`, shape)).toBeUndefined();
  });
});

describe('parseAnswer', () => {
  it('parses an answer as deep as batchd can write back, and gives nothing for deeper ones or text that is not JSON', () => {
    const nested = (depth: number) => `{"input":${'['.repeat(depth - 1)}${']'.repeat(depth - 1)}}`;
    const deepest = parseAnswer(nested(ANSWER_SHAPE.maxDepth));
    expect(JSON.parse(JSON.stringify(deepest))).toEqual(deepest);
    expect(parseAnswer(nested(ANSWER_SHAPE.maxDepth + 1))).toBeUndefined();
    // Two MB of brackets would take JSON.parse half a second, and JSON.stringify past its stack.
    expect(parseAnswer(nested(1_000_000))).toBeUndefined();
    expect(parseAnswer('{"type":"message"')).toBeUndefined();
    expect(parseAnswer('{"type":"message","content":[]}')).toEqual({ type: 'message', content: [] });
  });
});

describe('withStringMember', () => {
  it("replaces the top-level member's string, everything else as written", () => {
    const text = '{"tools":[{"model":"inner","max":18446744073709551615}],"model":"gpt-x","seed":9223372036854775807}';
    expect(withStringMember(text, 'model', 'llama "3"')).toBe('{"tools":[{"model":"inner","max":18446744073709551615}],"model":"llama \\"3\\"","seed":9223372036854775807}');
  });

  it('reads keys as JSON.parse does: escaped, spaced, the last of repeats; and strings holding what looks like a member', () => {
    expect(withStringMember('{ "mod\\u0065l" : "a" , "x": "\\",\\"model\\":\\"b"}', 'model', 'c')).toBe('{ "mod\\u0065l" : "c" , "x": "\\",\\"model\\":\\"b"}');
    expect(withStringMember('{"model":"a","n":1e400,"model":"b"}', 'model', 'c')).toBe('{"model":"a","n":1e400,"model":"c"}');
    expect(withStringMember('{"m":{"model":"a"},"model":"b"}', 'model', 'c')).toBe('{"m":{"model":"a"},"model":"c"}');
  });

  it('finds nothing to replace when the member is missing or not a string', () => {
    expect(withStringMember('{"m":{"model":"a"}}', 'model', 'c')).toBeUndefined();
    expect(withStringMember('{"model":5}', 'model', 'c')).toBeUndefined();
    expect(withStringMember('{"model":"a","model":null}', 'model', 'c')).toBeUndefined();
  });
});
