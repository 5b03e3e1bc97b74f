import { describe, expect, it } from 'vitest';
import { hasInexactNumber } from './json.js';

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
