import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { SQLITE_MIGRATIONS } from '../../packages/server/src/store/sqlite/migrations.js';

/**
 * What one claim transaction costs on batchd's schema, in a WAL file with synchronous=NORMAL as
 * batchd opens it, by rows claimed per transaction. The statements are the SQLite store's claim
 * as finding 1 measured it (active batches, turn, claim UPDATE with its IN subquery, params by key,
 * batch lookup); a second variant selects the keys first and updates them by key, as the store has
 * done since finding 24.
 *
 *   node bench/dist/bench/probes/claim-cost.js
 */

const QUEUED = 100_000;
const ROWS_PER_RUN = 12_000;

const dir = mkdtempSync(join(tmpdir(), 'batchd-claim-cost-'));
const db = new Database(join(dir, 'claim.sqlite'));
db.pragma('journal_mode = WAL');
db.pragma('synchronous = NORMAL');
for (const migration of SQLITE_MIGRATIONS) db.exec(migration.sql);
db.prepare(`INSERT INTO batches (id, workspace_id, status, created_at, expires_at, archive_at) VALUES ('b', 'w', 'in_progress', 0, 9e15, 9e15)`).run();
const insert = db.prepare(`INSERT INTO requests (batch_seq, custom_id, state) VALUES (1, ?, 'queued')`);
const insertParams = db.prepare(`INSERT INTO request_params (key, params) VALUES (?, ?)`);
const params = JSON.stringify({ model: 'm', max_tokens: 64, messages: [{ role: 'user', content: 'Item 1: a short question' }] });
db.transaction(() => {
  for (let i = 0; i < QUEUED; i++) insertParams.run(insert.run(`req-${i}`).lastInsertRowid, params);
})();

const active = db.prepare(`SELECT seq FROM batches WHERE status = 'in_progress' AND expires_at > ? ORDER BY claim_turn LIMIT 64`).pluck();
const takeTurn = db.prepare(`UPDATE batches SET claim_turn = ? WHERE seq = ?`);
const batchBySeq = db.prepare(`SELECT * FROM batches WHERE seq = ?`);
const claim = db.prepare(`UPDATE requests SET state = 'running', lease_owner = ?, lease_until = ?, attempts = attempts + 1
  WHERE key IN (SELECT key FROM requests WHERE batch_seq = ? AND state = 'queued' AND run_at <= ? ORDER BY run_at, key LIMIT ?)
  RETURNING key, custom_id, attempts`);
const paramsOf = db.prepare(`SELECT params FROM request_params WHERE key = ?`).pluck();
const selectKeys = db.prepare(`SELECT key FROM requests WHERE batch_seq = ? AND state = 'queued' AND run_at <= ? ORDER BY run_at, key LIMIT ?`).pluck();
const claimKey = db.prepare(`UPDATE requests SET state = 'running', lease_owner = ?, lease_until = ?, attempts = attempts + 1
  WHERE key = ? RETURNING key, custom_id, attempts`);

let turn = 0;
const variants: Record<string, (rows: number) => number> = {
  'claim UPDATE … IN (subquery)': db.transaction((rows: number) => {
    active.all(1);
    takeTurn.run(turn++, 1);
    const claimed = claim.all('owner', 1, 1, 1, rows) as Array<{ key: number }>;
    for (const row of claimed) paramsOf.get(row.key);
    batchBySeq.get(1);
    return claimed.length;
  }),
  'select keys, UPDATE by key': db.transaction((rows: number) => {
    active.all(1);
    takeTurn.run(turn++, 1);
    let claimed = 0;
    for (const key of selectKeys.all(1, 1, rows)) {
      claimed += claimKey.all('owner', 1, key).length;
      paramsOf.get(key);
    }
    batchBySeq.get(1);
    return claimed;
  }),
};

console.log('variant                        rows/tx   µs per tx   µs per row   CPU µs per row');
for (const [name, claimRows] of Object.entries(variants)) {
  for (const rows of [1, 8, 64]) {
    const transactions = Math.floor(ROWS_PER_RUN / rows / 2);
    const cpuStart = process.cpuUsage();
    const start = performance.now();
    let claimed = 0;
    for (let i = 0; i < transactions; i++) claimed += claimRows(rows);
    const elapsedUs = (performance.now() - start) * 1000;
    const cpu = process.cpuUsage(cpuStart);
    const perTx = (elapsedUs / transactions).toFixed(0);
    const perRow = (elapsedUs / claimed).toFixed(1);
    const cpuPerRow = ((cpu.user + cpu.system) / claimed).toFixed(1);
    console.log(`${name.padEnd(30)} ${String(rows).padStart(7)} ${perTx.padStart(11)} ${perRow.padStart(12)} ${cpuPerRow.padStart(16)}`);
  }
}
db.close();
rmSync(dir, { recursive: true, force: true });
