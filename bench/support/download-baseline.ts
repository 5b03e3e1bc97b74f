import { rmSync } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import Database from 'better-sqlite3';
import { secondsSince } from './stats.js';

/** Lines written per transaction (1,000 or 250 took the same time: finding 31). */
const LINES_PER_TRANSACTION = 4000;

/**
 * The floors under a provider batch's download, one run each: its results fetched over
 * HTTP and dropped (the transfer), and fetched and kept, each line inserted as it is into a table
 * of one text column of a new SQLite file with batchd's pragmas (WAL, `synchronous=NORMAL`), 4,000
 * lines a transaction, on the thread that reads them, and never checkpointed (the transfer and the
 * durable write, nothing parsed or looked up).
 */
export async function downloadFloors(resultsUrl: string, headers: Record<string, string>, dbPath: string): Promise<{ transfer: number; stored: number }> {
  let start = performance.now();
  const response = await fetch(resultsUrl, { headers });
  for await (const chunk of response.body!) void chunk;
  const transfer = secondsSince(start);
  start = performance.now();
  const lines = await downloadAndStore(resultsUrl, headers, dbPath);
  const stored = secondsSince(start);
  if (lines === 0) throw new Error('the provider batch had no results');
  return { transfer, stored };
}

function removeDatabase(path: string): void {
  for (const suffix of ['', '-wal', '-shm']) rmSync(path + suffix, { force: true });
}

async function downloadAndStore(resultsUrl: string, headers: Record<string, string>, dbPath: string): Promise<number> {
  removeDatabase(dbPath);
  const db = new Database(dbPath);
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('wal_autocheckpoint = 0');
    db.exec('CREATE TABLE results (line TEXT NOT NULL)');
    const insert = db.prepare('INSERT INTO results (line) VALUES (?)');
    const write = db.transaction((lines: string[]) => {
      for (const line of lines) insert.run(line);
    });
    const response = await fetch(resultsUrl, { headers });
    const decoder = new StringDecoder('utf8');
    let rest = '';
    let group: string[] = [];
    let count = 0;
    for await (const chunk of response.body! as AsyncIterable<Uint8Array>) {
      const lines = (rest + decoder.write(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength))).split('\n');
      rest = lines.pop()!;
      for (const line of lines) if (line.length > 0) group.push(line);
      if (group.length >= LINES_PER_TRANSACTION) {
        write(group);
        count += group.length;
        group = [];
      }
    }
    if (rest.length > 0) group.push(rest);
    write(group);
    return count + group.length;
  } finally {
    db.close();
    removeDatabase(dbPath);
  }
}
