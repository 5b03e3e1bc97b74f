import { describe, expect, it } from 'vitest';
import { setImmediate } from 'node:timers/promises';
import { ExactJsonParser, MAX_KEPT_NUMBERS, NUMBER_TAG, PROTO_KEY } from './exact-json.js';
import { exactParamsText, paramsJson, parseExact, PIECE_CHARS, stringifyInPieces, type Kept } from './params-pieces.js';

/** Parses `text` whole with the exact parser; returns the top value and what it kept. */
function parseStreamed(text: string): { value: unknown; kept: Kept } {
  const parser = new ExactJsonParser({ paths: ['$'] });
  let value: unknown;
  parser.onValue = (info) => {
    value = info.value;
  };
  parser.write(text);
  expect(parser.isEnded).toBe(true);
  return { value, kept: parser.take() };
}

describe('ExactJsonParser', () => {
  it('gives plain numbers for texts a double gives back, and markers for the rest, their texts kept', () => {
    const { value, kept } = parseStreamed('[0,1,-2,0.5,1e+21,1.5e-7,1.0,1e2,-0,9007199254740993,1e400,0.10]');
    const items = value as unknown[];
    expect(items.slice(0, 6)).toEqual([0, 1, -2, 0.5, 1e21, 1.5e-7]);
    expect(items.slice(6)).toEqual([0, 1, 2, 3, 4, 5].map((i) => `${NUMBER_TAG}${i}`));
    expect(kept).toEqual({ numbers: ['1.0', '1e2', '-0', '9007199254740993', '1e400', '0.10'], protoKeys: false });
  });

  it('keeps a __proto__ member as a member, leaving __proto__ values and prototypes alone', () => {
    const { value, kept } = parseStreamed('{"__proto__":{"polluted":true},"list":["__proto__"],"inner":{"a":1,"__proto__":2}}');
    const object = value as Record<string, unknown>;
    expect(Object.getPrototypeOf(object)).toBe(Object.prototype);
    expect(Object.keys(object)).toEqual([PROTO_KEY, 'list', 'inner']);
    expect(object.list).toEqual(['__proto__']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(kept).toEqual({ numbers: [], protoKeys: true });
  });

  it('hands over what each value kept once, counting markers from 0 for each', () => {
    const parser = new ExactJsonParser({ paths: ['$.*'] });
    const taken: Array<{ value: unknown; kept: Kept }> = [];
    parser.onValue = (info) => void taken.push({ value: info.value, kept: parser.take() });
    parser.write('[{"a":1,"b":"__proto__"},{"a":1.0},{"a":2,"b":-0}]');
    expect(taken.slice(0, 3)).toEqual([
      { value: { a: 1, b: '__proto__' }, kept: { numbers: [], protoKeys: false } },
      { value: { a: `${NUMBER_TAG}0` }, kept: { numbers: ['1.0'], protoKeys: false } },
      { value: { a: 2, b: `${NUMBER_TAG}0` }, kept: { numbers: ['-0'], protoKeys: false } },
    ]);
  });
});

describe('exact params text', () => {
  const samples = [
    '{"model":"m","seed":18446744073709551615,"x":[1.0,-0,1E+2,0.100]}',
    '{"__proto__":{"__proto__":[]},"model":"__proto__"}',
    '{"nested":{"deep":[[{"n":123456789012345678901234567890}]]}}',
  ];

  it('writes kept values back exactly as they were written, parsed in one write or a slice per turn', async () => {
    for (const text of samples) {
      const streamed = parseStreamed(text);
      expect(await paramsJson(streamed.value, text.length, streamed.kept)).toBe(text);
      const sliced = await parseExact(text);
      expect(await paramsJson(sliced.value, text.length, sliced.kept)).toBe(text);
    }
    expect(await exactParamsText(`  ${samples[0]!.replaceAll(',', ', ')}\n`)).toBe(samples[0]);
    expect(await exactParamsText('{"model": "m", "n": 1}')).toBeUndefined();
  });

  it('keeps at most its bound of numbers and __proto__ members in one value, then holds what JSON.parse would', async () => {
    const over = MAX_KEPT_NUMBERS + 5;
    const numbers = `[${Array.from({ length: over }, (_, i) => `${i}.0`).join(',')}]`;
    const kept = parseStreamed(numbers);
    expect(kept.kept.numbers).toHaveLength(MAX_KEPT_NUMBERS);
    const written = (await paramsJson(kept.value, numbers.length, kept.kept)) as string;
    expect(written.startsWith('[0.0,1.0,')).toBe(true);
    expect(written.endsWith(`,${MAX_KEPT_NUMBERS - 1}.0,${MAX_KEPT_NUMBERS},${MAX_KEPT_NUMBERS + 1},${MAX_KEPT_NUMBERS + 2},${MAX_KEPT_NUMBERS + 3},${MAX_KEPT_NUMBERS + 4}]`)).toBe(true);
    const members = `[${Array.from({ length: over }, () => '{"__proto__":{"a":1}}').join(',')}]`;
    const protos = parseStreamed(members);
    const text = JSON.stringify(protos.value);
    expect(text.split(PROTO_KEY)).toHaveLength(MAX_KEPT_NUMBERS + 1);
    expect(text.endsWith(',{},{},{},{},{}]')).toBe(true);
  });

  it('parses a long text a slice per turn, so other work runs meanwhile', async () => {
    const text = `{"model":"m","seed":1.0,"content":"${'é '.repeat(1_000_000)}"}`;
    let turns = 0;
    let parsing = true;
    void (async () => {
      while (parsing) {
        await setImmediate();
        turns++;
      }
    })();
    const { value, kept } = await parseExact(text);
    parsing = false;
    expect(turns).toBeGreaterThanOrEqual(Math.floor(text.length / (256 * 1024)) - 1);
    const written = await paramsJson(value, text.length, kept);
    expect(Array.isArray(written) ? written.join('') : written).toBe(text);
  });

  it('keeps numbers and members exact in params long enough to be stored as pieces', async () => {
    const long = 'x'.repeat(PIECE_CHARS * 3);
    const text = `{"model":"m","content":"${long}","seed":9223372036854775807,"__proto__":1.50}`;
    const { value, kept } = parseStreamed(text);
    const pieces = await stringifyInPieces(value, kept);
    expect(pieces.length).toBeGreaterThan(2);
    expect(pieces.join('')).toBe(text);
    expect(await paramsJson(value, text.length, kept)).toBe(text);
  });
});
