import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type { SqliteDatabase } from './sqlite-database.js';

/** How often the thread copies the log into the database file. */
const INTERVAL_MS = 200;

/** SQLite's own threshold (pages), restored if the thread stops on an error. */
const AUTO_CHECKPOINT_PAGES = 1000;

// CommonJS run by the worker: its own connection, a passive checkpoint every interval (it never
// waits for nor blocks the writer), and a last one when told to stop. A checkpoint that fails (a
// full disk, a file made read-only) is tried again at the next interval.
const THREAD = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.path, { fileMustExist: true });
const statement = db.prepare('PRAGMA wal_checkpoint(PASSIVE)');
const checkpoint = () => {
  try {
    statement.run();
  } catch {}
};
const timer = setInterval(checkpoint, workerData.intervalMs);
parentPort.once('message', () => {
  clearInterval(timer);
  checkpoint();
  db.close();
  parentPort.close();
});
`;

/**
 * Checkpoints a SQLite file's write-ahead log on a thread of its own. SQLite otherwise does it
 * inside the commit that crosses 1,000 pages: copying the log into the file and two `fsync`s,
 * tens of milliseconds on the event loop in every few MB written. The connection given stops
 * checkpointing by itself; if the thread fails it starts again, so the log never grows unbounded.
 */
export class SqliteCheckpointer {
  readonly #worker: Worker;
  readonly #exited: Promise<unknown>;

  constructor(db: SqliteDatabase, path: string) {
    const driver = createRequire(import.meta.url).resolve('better-sqlite3');
    this.#worker = new Worker(THREAD, { eval: true, workerData: { driver, path, intervalMs: INTERVAL_MS } });
    this.#worker.unref();
    this.#exited = new Promise((resolve) => this.#worker.once('exit', resolve));
    this.#worker.on('error', () => {
      if (db.open) db.pragma(`wal_autocheckpoint = ${AUTO_CHECKPOINT_PAGES}`);
    });
    db.pragma('wal_autocheckpoint = 0');
  }

  /** Runs a last checkpoint and ends the thread. */
  async stop(): Promise<void> {
    this.#worker.ref();
    this.#worker.postMessage('stop');
    await this.#exited;
  }
}
