import { describe, expect, it } from 'vitest';
import { holdsLongString, PIECE_CHARS, stringifyInPieces, textLength } from './params-pieces.js';

describe('stringifyInPieces', () => {
  it('gives exactly JSON.stringify in pieces, escapes and surrogate pairs intact at every cut', async () => {
    // After one character, every cut of whole pieces would fall inside a surrogate pair.
    const emoji = `a${'🌍'.repeat(PIECE_CHARS)}`;
    const escaped = '"\\\n\u0001x'.repeat(PIECE_CHARS / 2);
    const value = {
      model: 'm',
      n: [1.5, -0, 1e21, true, null],
      messages: [{ role: 'user', content: emoji }, { role: 'user', content: escaped }],
      keys: Object.fromEntries(Array.from({ length: 20_000 }, (_, i) => [`k${i}`, 'v'.repeat(20)])),
      '2': 'integer keys come first, as in JSON.stringify',
      tail: 'x'.repeat(3 * PIECE_CHARS + 7),
    };
    const pieces = await stringifyInPieces(value);
    expect(pieces.join('')).toBe(JSON.stringify(value));
    expect(textLength(pieces)).toBe(JSON.stringify(value).length);
    expect(pieces.length).toBeGreaterThan(10);
    for (const piece of pieces) {
      expect(piece.length).toBeLessThanOrEqual(7 * PIECE_CHARS);
      // A piece converted to UTF-8 on its own loses nothing: no lone surrogate at either end.
      expect(Buffer.from(piece).toString()).toBe(piece);
    }
  });

  it('gives exactly JSON.stringify for a value with no long string, cut into pieces', async () => {
    const value = { model: 'm', tools: Array.from({ length: 200_000 }, (_, i) => (i % 3 === 0 ? { n: i, s: 'é\n' } : i)) };
    const pieces = await stringifyInPieces(value);
    expect(pieces.join('')).toBe(JSON.stringify(value));
    expect(pieces.length).toBeGreaterThan(1);
    for (const piece of pieces) expect(piece.length).toBeLessThanOrEqual(2 * PIECE_CHARS);
  });

  it('gives the event loop a turn while it writes a long string, and none for a short value', async () => {
    const count = async (value: unknown) => {
      let turns = 0;
      let writing = true;
      const ticker = (async () => {
        while (writing) {
          await new Promise((resolve) => setImmediate(resolve));
          turns++;
        }
      })();
      const pieces = await stringifyInPieces(value);
      writing = false;
      await ticker;
      expect(pieces.join('')).toBe(JSON.stringify(value));
      return turns;
    };
    // 30 Mi characters of text: a turn after every 4 Mi.
    expect(await count({ model: 'm', content: 'ab"'.repeat(10 * 1024 * 1024) })).toBeGreaterThanOrEqual(8);
    expect(await count({ model: 'm', content: 'short' })).toBeLessThanOrEqual(1);
  });
});

describe('holdsLongString', () => {
  const long = 'x'.repeat(PIECE_CHARS + 1);

  it('finds a string longer than a piece wherever it sits', () => {
    expect(holdsLongString(long)).toBe(true);
    expect(holdsLongString({ a: [1, { b: [[null, long]] }] })).toBe(true);
    expect(holdsLongString([{ deep: { deeper: { text: long } } }, 2])).toBe(true);
    let nested: unknown = long;
    for (let depth = 0; depth < 100_000; depth++) nested = [nested];
    expect(holdsLongString(nested)).toBe(true);
  });

  it('passes a value whose strings are at most a piece, and its keys', () => {
    expect(holdsLongString({ [long]: 1, a: ['x'.repeat(PIECE_CHARS)], n: [1, true, null] })).toBe(false);
    expect(holdsLongString(Array.from({ length: 100_000 }, (_, i) => ({ i, s: 'short' })))).toBe(false);
  });
});
