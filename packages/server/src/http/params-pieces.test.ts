import { describe, expect, it } from 'vitest';
import { PIECE_CHARS, stringifyInPieces, textLength } from './params-pieces.js';

describe('stringifyInPieces', () => {
  it('gives exactly JSON.stringify in pieces, escapes and surrogate pairs intact at every cut', () => {
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
    const pieces = stringifyInPieces(value);
    expect(pieces.join('')).toBe(JSON.stringify(value));
    expect(textLength(pieces)).toBe(JSON.stringify(value).length);
    expect(pieces.length).toBeGreaterThan(10);
    for (const piece of pieces) {
      expect(piece.length).toBeLessThanOrEqual(7 * PIECE_CHARS);
      // A piece converted to UTF-8 on its own loses nothing: no lone surrogate at either end.
      expect(Buffer.from(piece).toString()).toBe(piece);
    }
  });

});
