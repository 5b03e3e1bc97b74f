import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { withSpooled } from './spool.js';

async function* chunksOf(...parts: string[]): AsyncIterable<Buffer> {
  for (const part of parts) yield Buffer.from(part);
}

async function readAll(content: AsyncIterable<Buffer>): Promise<string> {
  const read: Buffer[] = [];
  for await (const chunk of content) read.push(chunk);
  return Buffer.concat(read).toString();
}

describe('withSpooled', () => {
  let dir: string;
  let before: string | undefined;
  beforeEach(() => {
    before = process.env.TMPDIR;
    dir = mkdtempSync(join(tmpdir(), 'batchd-spool-test-'));
    process.env.TMPDIR = dir;
  });
  afterEach(() => {
    if (before === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = before;
    rmSync(dir, { recursive: true, force: true });
  });

  it('reads the chunks back, as often as asked, with their length, while no file of it is named in the temporary directory', async () => {
    const big = 'x'.repeat(3 * 1024 * 1024 + 7);
    const reads = await withSpooled(chunksOf('head,', big, ',tail'), async (content, bytes) => {
      expect(readdirSync(dir)).toEqual([]);
      return [await readAll(content()), await readAll(content()), bytes];
    });
    expect(reads).toEqual([`head,${big},tail`, `head,${big},tail`, big.length + 10]);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('keeps the order of many chunks of every size, written while the next ones are made', async () => {
    const parts = Array.from({ length: 200 }, (_, i) => String.fromCharCode(97 + (i % 26)).repeat(((i * 7919) % 70_000) + 1));
    expect(await withSpooled(chunksOf(...parts), async (content, bytes) => [await readAll(content()), bytes])).toEqual([parts.join(''), parts.join('').length]);
  });

  it('leaves nothing behind when the chunks or the work fail', async () => {
    async function* failing(): AsyncIterable<Buffer> {
      yield Buffer.from('part');
      throw new Error('client went away');
    }
    await expect(withSpooled(failing(), async () => 'never')).rejects.toThrow('client went away');
    await expect(withSpooled(chunksOf('a'), async () => Promise.reject(new Error('transaction failed')))).rejects.toThrow('transaction failed');
    expect(readdirSync(dir)).toEqual([]);
  });
});
