import { describe, expect, it } from 'vitest';
import { CopyLines, linesOfCopy, type CopyLinesPage } from './copy-binary-lines.js';

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

describe('CopyLines', () => {
  const lines = Array.from({ length: 7 }, (_, i) => `{"n":${i},"text":"${'é'.repeat(i * 5)}"}\n`);
  const data = copyData(lines.map((line, i) => [10 + i, line]));

  /** Pages of `pageLines` lines from `data` cut into `size`-byte chunks, taken as each chunk arrives. */
  function pagesOf(size: number, pageLines: number): CopyLinesPage[] {
    const reader = new CopyLines(pageLines, 16);
    const pages: CopyLinesPage[] = [];
    for (const chunk of cut(data, size)) {
      reader.push(chunk);
      for (let page = reader.takePage(); page !== undefined; page = reader.takePage()) pages.push(page);
    }
    const last = reader.end();
    return last === undefined ? pages : [...pages, last];
  }

  it('gives full pages as the chunks arrive, then the rest, however the data was cut', () => {
    for (const size of [1, 2, 5, 18, 19, 40, 100, data.length]) {
      for (const pageLines of [1, 3, 7, 100]) {
        const pages = pagesOf(size, pageLines);
        expect(Buffer.concat(pages.map((page) => page.lines)).toString()).toBe(lines.join(''));
        const counts = pages.map((page) => page.count);
        expect(counts).toEqual(Array.from({ length: Math.ceil(7 / pageLines) }, (_, i) => Math.min(pageLines, 7 - i * pageLines)));
        expect(pages.map((page) => page.lastPosition)).toEqual(counts.map((_, i) => 10 + Math.min(7, (i + 1) * pageLines) - 1));
      }
    }
  });

  it('fails at the end of data that ends inside a row', () => {
    const reader = new CopyLines(3, 16);
    reader.push(data.subarray(0, data.length - 10));
    while (reader.takePage() !== undefined);
    expect(() => reader.end()).toThrow(/ended inside a row/);
  });
});
