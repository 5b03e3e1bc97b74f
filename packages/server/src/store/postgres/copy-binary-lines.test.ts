import { describe, expect, it } from 'vitest';
import { linesOfCopy } from './copy-binary-lines.js';

/** COPY's binary format for rows of a bigint position and a text line (null when the line is). */
function copyData(rows: Array<[number, string | null]>): Buffer {
  const parts = [Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1'), Buffer.from([0, 0, 0, 0, 0, 0, 0, 3, 1, 2, 3])];
  for (const [position, line] of rows) {
    const head = Buffer.alloc(18);
    head.writeInt16BE(2, 0);
    head.writeInt32BE(8, 2);
    head.writeBigInt64BE(BigInt(position), 6);
    head.writeInt32BE(line === null ? -1 : Buffer.byteLength(line), 14);
    parts.push(head, Buffer.from(line ?? ''));
  }
  parts.push(Buffer.from([0xff, 0xff]));
  return Buffer.concat(parts);
}

/** `data` cut into pieces of `size` bytes. */
function cut(data: Buffer, size: number): Buffer[] {
  const chunks: Buffer[] = [];
  for (let at = 0; at < data.length; at += size) chunks.push(data.subarray(at, at + size));
  return chunks;
}

describe('linesOfCopy', () => {
  const lines = ['{"a":"tab\there \\\\ back"}\n', '{"b":"日本語 🎉"}\n', `${'x'.repeat(300)}\n`];
  const data = copyData([[5, lines[0]!], [9, lines[1]!], [2 ** 40, lines[2]!]]);

  it('joins the lines and finds the last position however the data was cut into chunks', () => {
    for (const size of [1, 2, 3, 7, 18, 19, 64, data.length]) {
      const page = linesOfCopy(cut(data, size));
      expect(page.lines.toString()).toBe(lines.join(''));
      expect([page.count, page.lastPosition]).toEqual([3, 2 ** 40]);
    }
  });

  it('reads no rows from data that has none', () => {
    expect(linesOfCopy([copyData([])])).toMatchObject({ count: 0, lines: Buffer.alloc(0) });
  });

  it('fails on a null line and on data that ends inside a row', () => {
    expect(() => linesOfCopy([copyData([[1, null]])])).toThrow(/neither a result nor a result type/);
    expect(() => linesOfCopy([data.subarray(0, data.length - 10)])).toThrow(/ended inside a row/);
  });
});
