import { describe, expect, it } from 'vitest';
import { ExactJsonParser, PROTO_KEY, RawNumber } from './exact-json.js';
import { paramsJson, PIECE_CHARS, stringifyInPieces } from './params-pieces.js';

/** Parses `text` whole with the exact parser; returns the top value and whether anything was kept. */
function parseExact(text: string): { value: unknown; kept: boolean } {
  const parser = new ExactJsonParser({ paths: ['$'] });
  let value: unknown;
  parser.onValue = (info) => {
    value = info.value;
  };
  parser.write(text);
  expect(parser.isEnded).toBe(true);
  return { value, kept: parser.takeKept() };
}

describe('ExactJsonParser', () => {
  it('gives plain numbers for texts a double gives back, and RawNumbers for the rest', () => {
    const { value, kept } = parseExact('[0,1,-2,0.5,1e+21,1.5e-7,1.0,1e2,-0,9007199254740993,1e400,0.10]');
    const items = value as unknown[];
    expect(items.slice(0, 6)).toEqual([0, 1, -2, 0.5, 1e21, 1.5e-7]);
    expect(items.slice(6).map((item) => (item as RawNumber).text)).toEqual(['1.0', '1e2', '-0', '9007199254740993', '1e400', '0.10']);
    expect(kept).toBe(true);
    // Read anywhere else, a kept number is the nearest double.
    expect(JSON.stringify(items.slice(6))).toBe('[1,100,0,9007199254740992,null,0.1]');
  });

  it('keeps a __proto__ member as a member, leaving __proto__ values and prototypes alone', () => {
    const { value, kept } = parseExact('{"__proto__":{"polluted":true},"list":["__proto__"],"inner":{"a":1,"__proto__":2}}');
    const object = value as Record<string, unknown>;
    expect(Object.getPrototypeOf(object)).toBe(Object.prototype);
    expect(Object.keys(object)).toEqual([PROTO_KEY, 'list', 'inner']);
    expect(object.list).toEqual(['__proto__']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(kept).toBe(true);
  });

  it('says nothing was kept for values JSON.stringify gives back, and asks anew each time', () => {
    const parser = new ExactJsonParser({ paths: ['$.*'] });
    const kept: boolean[] = [];
    parser.onValue = () => void kept.push(parser.takeKept());
    parser.write('[{"a":1,"b":"__proto__"},{"a":1.0},{"a":2}]');
    expect(kept.slice(0, 3)).toEqual([false, true, false]);
  });
});

describe('exact params text', () => {
  const samples = [
    '{"model":"m","seed":18446744073709551615,"x":[1.0,-0,1E+2,0.100]}',
    '{"__proto__":{"__proto__":[]},"model":"__proto__"}',
    '{"nested":{"deep":[[{"n":123456789012345678901234567890}]]}}',
  ];

  it('writes kept values back exactly as they were written', () => {
    for (const text of samples) {
      const { value, kept } = parseExact(text);
      expect(paramsJson(value, text.length, kept)).toBe(text);
    }
  });

  it('keeps numbers and members exact in params long enough to be stored as pieces', () => {
    const long = 'x'.repeat(PIECE_CHARS * 3);
    const text = `{"model":"m","content":"${long}","seed":9223372036854775807,"__proto__":1.50}`;
    const { value, kept } = parseExact(text);
    const pieces = stringifyInPieces(value);
    expect(pieces.length).toBeGreaterThan(2);
    expect(pieces.join('')).toBe(text);
    expect(paramsJson(value, text.length, kept)).toBe(text);
  });
});
