import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { StringDecoder } from 'node:string_decoder';
import { JSONParser } from '@streamparser/json';
import Database from 'better-sqlite3';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { copyField } from '../../packages/server/src/store/postgres/copy-requests.js';
import { SQLITE_MIGRATIONS } from '../../packages/server/src/store/sqlite/migrations.js';

/**
 * The floor under a create: the same body parsed by `@streamparser/json` with the options batchd's
 * create parser uses (text input, 4 KiB string buffer, the element dropped once seen), each
 * `params` turned back into JSON text, then the same rows inserted by better-sqlite3 in one
 * transaction into batchd's own schema, with batchd's pragmas (WAL, synchronous=NORMAL); on
 * PostgreSQL, one `COPY ... FROM STDIN` (pg-copy-streams, as batchd's create uses) in one
 * transaction into a database batchd's migrations have made.
 */

export type RequestRow = [customId: string, params: string];

export async function parseBody(path: string): Promise<RequestRow[]> {
  const rows: RequestRow[] = [];
  const parser = new JSONParser({ paths: ['$.*', '$.requests.*'], keepStack: false, stringBufferSize: 4096 });
  parser.onValue = ({ value, key, parent, stack }) => {
    if (stack.length !== 2) return;
    delete (parent as unknown[])[key as number];
    const request = value as { custom_id: string; params: unknown };
    rows.push([request.custom_id, JSON.stringify(request.params)]);
  };
  const decoder = new StringDecoder('utf8');
  for await (const chunk of createReadStream(path) as AsyncIterable<Buffer>) parser.write(decoder.write(chunk));
  if (!parser.isEnded) throw new Error('the create body ended early');
  return rows;
}

export function insertRows(dbPath: string, rows: readonly RequestRow[]): void {
  const db = new Database(dbPath);
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    for (const migration of SQLITE_MIGRATIONS) db.exec(migration.sql);
    const insert = db.prepare(`INSERT INTO requests (batch_seq, custom_id, state) VALUES (1, ?, 'queued')`);
    const insertParams = db.prepare(`INSERT INTO request_params (key, params) VALUES (?, ?)`);
    db.transaction(() => {
      for (const [customId, params] of rows) insertParams.run(insert.run(customId).lastInsertRowid, params);
    })();
  } finally {
    db.close();
  }
}

const COPY_ROWS_PER_CHUNK = 1000;

function* copyText(rows: readonly RequestRow[]): Generator<string> {
  for (let at = 0; at < rows.length; at += COPY_ROWS_PER_CHUNK) {
    let text = '';
    for (const [customId, params] of rows.slice(at, at + COPY_ROWS_PER_CHUNK)) text += `1\t${copyField(customId)}\t${copyField(params)}\n`;
    yield text;
  }
}

/** Copies `rows` into `batchd.requests` of the migrated database at `url`, in one transaction. */
export async function copyRows(url: string, rows: readonly RequestRow[]): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query('BEGIN');
    await pipeline(Readable.from(copyText(rows)), client.query(copyFrom('COPY batchd.requests (batch_seq, custom_id, params) FROM STDIN')));
    await client.query('COMMIT');
  } finally {
    await client.end();
  }
}
