import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import Database from 'better-sqlite3';
import { resultLine } from '../../packages/server/src/store/result-line.js';
import { SQLITE_MIGRATIONS } from '../../packages/server/src/store/sqlite/migrations.js';

/**
 * Where the time of a results stream goes, step by step, without HTTP: `rows` stored results of
 * about 2.7 KB each on batchd's schema, read in pages of 1000 as the SQLite store reads them, then
 * turned into JSONL text, then into bytes (best of three rounds each); and the same through
 * `Readable.from` (as the results route serves it) into a paced consumer, with its default
 * read-ahead and with a read-ahead of one page, noting the resident-size growth.
 *
 *   node bench/dist/bench/probes/results-read.js [rows]
 */

const ROWS = Number(process.argv[2] ?? 100_000);
const PAGE = 1000;

interface ResultRow {
  key: number;
  custom_id: string;
  result_type: string | null;
  result: string | null;
}

const dir = mkdtempSync(join(tmpdir(), 'batchd-results-read-'));
const db = new Database(join(dir, 'results.sqlite'));
db.pragma('journal_mode = WAL');
db.pragma('synchronous = NORMAL');
for (const migration of SQLITE_MIGRATIONS) db.exec(migration.sql);
const message = { id: 'msg_1', type: 'message', role: 'assistant', content: [{ type: 'text', text: 'x'.repeat(2400), citations: null }] };
const stored = JSON.stringify({ type: 'succeeded', message: { ...message, model: 'm', stop_reason: 'end_turn', usage: { input_tokens: 5, output_tokens: 600 } } });
const insert = db.prepare(`INSERT INTO requests (batch_seq, custom_id, params, state, result_type, result) VALUES (1, ?, '{}', 'done', 'succeeded', ?)`);
db.transaction(() => {
  for (let i = 0; i < ROWS; i++) insert.run(`req-${i}`, stored);
})();

const page = db.prepare(`SELECT key, custom_id, result_type, result FROM requests WHERE batch_seq = ? AND key > ? ORDER BY key LIMIT ?`);
const rawText = db.prepare(`SELECT key, result FROM requests WHERE batch_seq = ? AND key > ? ORDER BY key LIMIT ?`).raw();

function* pages(): Generator<ResultRow[]> {
  let after = 0;
  for (;;) {
    const rows = page.all(1, after, PAGE) as ResultRow[];
    if (rows.length === 0) return;
    after = rows[rows.length - 1]!.key;
    yield rows;
  }
}

const pageText = (rows: ResultRow[]) => rows.reduce((text, row) => text + resultLine(row.custom_id, row.result_type, row.result), '');

function selectResultsOnly(): number {
  let bytes = 0;
  for (let after = 0, rows = rawText.all(1, 0, PAGE) as Array<[number, string]>; rows.length > 0; rows = rawText.all(1, after, PAGE) as Array<[number, string]>) {
    for (const row of rows) bytes += row[1].length;
    after = rows[rows.length - 1]![0];
  }
  return bytes;
}

const steps: Record<string, () => number> = {
  'SELECT result only (raw arrays)': selectResultsOnly,
  'pages as row objects (store query)': () => {
    let bytes = 0;
    for (const rows of pages()) for (const row of rows) bytes += row.result?.length ?? 0;
    return bytes;
  },
  '+ JSONL text per page (resultLine)': () => {
    let bytes = 0;
    for (const rows of pages()) bytes += pageText(rows).length;
    return bytes;
  },
  '+ page text to bytes (socket write)': () => {
    let bytes = 0;
    for (const rows of pages()) bytes += Buffer.from(pageText(rows)).length;
    return bytes;
  },
};

function report(name: string, bytes: number, seconds: number): void {
  console.log(`${name.padEnd(40)} ${(bytes / 1e6 / seconds).toFixed(0).padStart(5)} MB/s`);
}

for (const [name, step] of Object.entries(steps)) {
  let best = Number.POSITIVE_INFINITY;
  let bytes = 0;
  for (let round = 0; round < 3; round++) {
    const start = performance.now();
    bytes = step();
    best = Math.min(best, (performance.now() - start) / 1000);
  }
  report(name, bytes, best);
}

// The same bare read with the file memory-mapped (this connection only).
db.pragma('mmap_size = 1073741824');
{
  let best = Number.POSITIVE_INFINITY;
  let bytes = 0;
  for (let round = 0; round < 3; round++) {
    const start = performance.now();
    bytes = selectResultsOnly();
    best = Math.min(best, (performance.now() - start) / 1000);
  }
  report('SELECT result only, mmap_size 1 GiB', bytes, best);
}

async function* textPages(): AsyncGenerator<string> {
  for (const rows of pages()) yield pageText(rows);
}

// The sink stands for a client reading at about 250 MB/s: each page-sized write completes after
// 10 ms, so a producer that reads ahead fills its buffer.
for (const highWaterMark of [16, 1]) {
  let bytes = 0;
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      bytes += chunk.length;
      setTimeout(done, 10);
    },
  });
  const rssBefore = process.memoryUsage().rss;
  let rssMax = rssBefore;
  const sampler = setInterval(() => (rssMax = Math.max(rssMax, process.memoryUsage().rss)), 5);
  await pipeline(Readable.from(textPages(), { highWaterMark }), sink);
  clearInterval(sampler);
  const growth = (Math.max(rssMax, process.memoryUsage().rss) - rssBefore) / 1e6;
  console.log(`${`Readable.from, read-ahead ${highWaterMark} page(s)`.padEnd(40)} RSS +${growth.toFixed(0)} MB over ${(bytes / 1e6).toFixed(0)} MB`);
}

db.close();
rmSync(dir, { recursive: true, force: true });
