import { copyFileSync, existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { SqliteCheckpointer } from './sqlite-checkpointer.js';
import { openSqliteDatabase } from './sqlite-database.js';

const dir = mkdtempSync(join(tmpdir(), 'batchd-checkpointer-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function until(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('SqliteCheckpointer', () => {
  it('copies the log into the database file on its own thread, and all of it on stop', async () => {
    const path = join(dir, 'copied.sqlite');
    const db = openSqliteDatabase(path);
    const checkpointer = new SqliteCheckpointer(db, path);
    expect(db.pragma('wal_autocheckpoint', { simple: true })).toBe(0);
    const before = statSync(path).size;
    db.exec('CREATE TABLE filler (text TEXT)');
    const insert = db.prepare('INSERT INTO filler (text) VALUES (?)');
    // 8 MB, twice what makes SQLite checkpoint in a commit by itself, which this connection no longer does.
    db.transaction(() => {
      for (let i = 0; i < 2_000; i++) insert.run('x'.repeat(4_000));
    })();
    await until(() => statSync(path).size > before + 7_000_000);
    insert.run('last');
    await checkpointer.stop();
    // The database file alone, without its log, holds every row.
    const copy = join(dir, 'copy.sqlite');
    copyFileSync(path, copy);
    const alone = new Database(copy, { readonly: true });
    expect(alone.prepare('SELECT count(*) FROM filler').pluck().get()).toBe(2_001);
    alone.close();
    db.close();
  });

  it('keeps the log bounded while a writer commits without pause', async () => {
    const path = join(dir, 'bounded.sqlite');
    const db = openSqliteDatabase(path);
    const restartPages = 256;
    const checkpointer = new SqliteCheckpointer(db, path, { restartPages });
    db.exec('CREATE TABLE filler (text TEXT)');
    const insert = db.prepare('INSERT INTO filler (text) VALUES (?)');
    const write = db.transaction(() => {
      for (let i = 0; i < 10; i++) insert.run('x'.repeat(4_000));
    });
    const log = () => (existsSync(`${path}-wal`) ? statSync(`${path}-wal`).size : 0);
    let written = 0;
    let longest = 0;
    // 32 MB over about two seconds, ten of the thread's intervals: a thread copying beside this
    // writer never finds the whole log copied when a write begins.
    for (let i = 0; i < 800; i++) {
      write();
      written += 40_000;
      longest = Math.max(longest, log());
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    expect(written).toBeGreaterThan(10 * restartPages * 4096);
    expect(longest).toBeLessThan(written / 3);
    await checkpointer.stop();
    expect(db.prepare('SELECT count(*) FROM filler').pluck().get()).toBe(written / 4_000);
    db.close();
  });

  it('leaves checkpoints to SQLite again when its thread cannot start', async () => {
    const db = openSqliteDatabase(':memory:');
    const checkpointer = new SqliteCheckpointer(db, join(dir, 'missing', 'gone.sqlite'));
    expect(db.pragma('wal_autocheckpoint', { simple: true })).toBe(0);
    await checkpointer.stop();
    expect(db.pragma('wal_autocheckpoint', { simple: true })).toBe(1000);
    db.close();
  });
});
