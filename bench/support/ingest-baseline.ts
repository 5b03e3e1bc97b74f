import { createReadStream } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import { JSONParser } from '@streamparser/json';
import Database from 'better-sqlite3';
import { SQLITE_MIGRATIONS } from '../../packages/server/src/store/sqlite/migrations.js';

/**
 * The floor under a create: the same body parsed by `@streamparser/json` with the options batchd's
 * create parser uses (text input, 4 KiB string buffer, the element dropped once seen), each
 * `params` turned back into JSON text, then the same rows inserted by better-sqlite3 in one
 * transaction into batchd's own schema, with batchd's pragmas (WAL, synchronous=NORMAL).
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
