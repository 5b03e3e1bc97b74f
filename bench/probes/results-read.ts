import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import Database from 'better-sqlite3';
import { SQLITE_MIGRATIONS } from '../../packages/server/src/store/sqlite/migrations.js';
import { readProcMemory } from '../support/proc-stats.js';

/**
 * Ways to read a batch's stored results out of SQLite as JSONL bytes, without HTTP: `rows` results
 * of about 2.7 KB on batchd's schema, pages of 1000. Each way runs in its own process on the same
 * file: MB/s (best of three) and how far the anonymous and the file-backed resident size grew while
 * reading, with no forced collection (what a server sees between collections) and with a minor
 * collection after every page (what is left once garbage is collected). The last way memory-maps
 * the file; mapped pages count as file-backed resident memory.
 *
 *   node bench/dist/bench/probes/results-read.js [rows]
 */

const [rowsArg, childPath, childWay, childCollect] = process.argv.slice(2);
const ROWS = Number(rowsArg ?? 100_000);
const PAGE = 1000;

const LINE = `'{"custom_id":"' || custom_id || '","result":' || COALESCE(result, '{"type":"' || result_type || '"}') || '}' || char(10)`;
const PAGE_ROWS = `FROM requests WHERE batch_seq = ? AND key > ? ORDER BY key LIMIT ?`;

/** Reads the page after `after`: the last key and the page's bytes, or null past the end. */
type PageReader = (after: number) => [number, Buffer] | null;

/** One JSONL results line framed in JS, as batchd framed lines from rows before it read them as bytes. */
function resultLine(customId: string, type: string | null, result: string | null): string {
  return `{"custom_id":"${customId}","result":${result ?? `{"type":"${type}"}`}}\n`;
}

interface StoredRow {
  key: number;
  custom_id: string;
  result_type: string | null;
  result: string | null;
}

const MAPPED = ', mmap 1 GiB';

const WAYS: Record<string, (db: Database.Database) => PageReader> = {
  'rows as objects, JSONL text, Buffer.from': (db) => {
    const query = db.prepare(`SELECT key, custom_id, result_type, result ${PAGE_ROWS}`);
    return (after) => {
      const rows = query.all(1, after, PAGE) as StoredRow[];
      if (rows.length === 0) return null;
      let text = '';
      for (const row of rows) text += resultLine(row.custom_id, row.result_type, row.result);
      return [rows[rows.length - 1]!.key, Buffer.from(text)];
    };
  },
  'a BLOB per line framed in SQL, Buffer.concat': (db) => {
    const query = db.prepare(`SELECT key, CAST(${LINE} AS BLOB) ${PAGE_ROWS}`).raw();
    return (after) => {
      const rows = query.all(1, after, PAGE) as Array<[number, Buffer]>;
      if (rows.length === 0) return null;
      return [rows[rows.length - 1]![0], Buffer.concat(rows.map((row) => row[1]))];
    };
  },
  [`a BLOB per line framed in SQL, Buffer.concat${MAPPED}`]: (db) => {
    const query = db.prepare(`SELECT key, CAST(${LINE} AS BLOB) ${PAGE_ROWS}`).raw();
    return (after) => {
      const rows = query.all(1, after, PAGE) as Array<[number, Buffer]>;
      if (rows.length === 0) return null;
      return [rows[rows.length - 1]![0], Buffer.concat(rows.map((row) => row[1]))];
    };
  },
  'one BLOB per page (group_concat ORDER BY key)': (db) => {
    const query = db.prepare(`SELECT max(key), CAST(group_concat(${LINE}, '' ORDER BY key) AS BLOB)
      FROM (SELECT key, custom_id, result_type, result ${PAGE_ROWS})`).raw();
    return (after) => {
      const [row] = query.all(1, after, PAGE) as Array<[number | null, Buffer | null]>;
      return row === undefined || row[0] === null || row[1] === null ? null : [row[0], row[1]];
    };
  },
};

/** Writes `ROWS` stored results into a fresh database file; returns its path. */
function fill(dir: string): string {
  const path = join(dir, 'results.sqlite');
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  for (const migration of SQLITE_MIGRATIONS) db.exec(migration.sql);
  const message = { id: 'msg_1', type: 'message', role: 'assistant', content: [{ type: 'text', text: 'x'.repeat(2400), citations: null }] };
  const stored = JSON.stringify({ type: 'succeeded', message: { ...message, model: 'm', stop_reason: 'end_turn', usage: { input_tokens: 5, output_tokens: 600 } } });
  const insert = db.prepare(`INSERT INTO requests (batch_seq, custom_id, state, result_type, result) VALUES (1, ?, 'done', 'succeeded', ?)`);
  db.transaction(() => {
    for (let i = 0; i < ROWS; i++) insert.run(`req-${i}`, stored);
  })();
  db.close();
  return path;
}

interface Measurement {
  mbPerSecond: number;
  anonGrowthMB: number;
  fileGrowthMB: number;
}

function measure(read: PageReader, collect: (() => void) | null): Measurement {
  const before = readProcMemory(process.pid);
  let anonPeak = before.anonBytes;
  let filePeak = before.fileBytes;
  let bytes = 0;
  const start = performance.now();
  for (let page = read(0); page !== null; page = read(page[0])) {
    bytes += page[1].length;
    collect?.();
    const now = readProcMemory(process.pid);
    anonPeak = Math.max(anonPeak, now.anonBytes);
    filePeak = Math.max(filePeak, now.fileBytes);
  }
  const seconds = (performance.now() - start) / 1000;
  return { mbPerSecond: bytes / 1e6 / seconds, anonGrowthMB: (anonPeak - before.anonBytes) / 1e6, fileGrowthMB: (filePeak - before.fileBytes) / 1e6 };
}

function runOneWay(path: string, way: string, collectEachPage: boolean): void {
  const makeReader = WAYS[way];
  if (!makeReader) throw new Error(`no way of reading named ${way}`);
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as (options: { type: 'minor' }) => void;
  const db = new Database(path, { readonly: true });
  if (way.endsWith(MAPPED)) db.pragma('mmap_size = 1073741824');
  const read = makeReader(db);
  let best: Measurement = { mbPerSecond: 0, anonGrowthMB: 0, fileGrowthMB: 0 };
  for (let round = 0; round < 3; round++) {
    const result = measure(read, collectEachPage ? () => gc({ type: 'minor' }) : null);
    best = {
      mbPerSecond: Math.max(best.mbPerSecond, result.mbPerSecond),
      anonGrowthMB: Math.max(best.anonGrowthMB, result.anonGrowthMB),
      fileGrowthMB: Math.max(best.fileGrowthMB, result.fileGrowthMB),
    };
  }
  const mode = collectEachPage ? 'minor GC per page' : 'none forced';
  const growth = `+${best.anonGrowthMB.toFixed(0)} MB`.padStart(9);
  console.log(`${way.padEnd(56)} ${mode.padEnd(17)} ${best.mbPerSecond.toFixed(0).padStart(5)}   ${growth}   +${best.fileGrowthMB.toFixed(0)} MB`);
  db.close();
}

if (childPath !== undefined) {
  runOneWay(childPath, childWay ?? '', childCollect === 'minor');
} else {
  const dir = mkdtempSync(join(tmpdir(), 'batchd-results-read-'));
  try {
    const path = fill(dir);
    console.log(`${'way of reading'.padEnd(56)} collection         MB/s   anon RSS   file RSS`);
    for (const way of Object.keys(WAYS)) {
      for (const collect of ['none', 'minor']) {
        const child = spawnSync(process.execPath, [process.argv[1]!, String(ROWS), path, way, collect], { encoding: 'utf8' });
        process.stdout.write(child.status === 0 ? child.stdout : child.stderr);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
