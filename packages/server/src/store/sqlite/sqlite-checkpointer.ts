import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type { SqliteDatabase } from './sqlite-database.js';

/** How often the thread copies the log into the database file. */
const INTERVAL_MS = 200;

/** SQLite's own threshold (pages), restored if the thread stops on an error. */
const AUTO_CHECKPOINT_PAGES = 1000;

/**
 * Log length (pages) past which the writer's connection finishes a checkpoint so the log starts
 * over: 64 MB of 4 KB pages, the length the file is cut back to. Each such checkpoint syncs the log
 * and the file on the event loop: writing a provider batch's 100,000 results spent 150 ms in them
 * at 16 MB, 51 ms at 64 MB.
 */
const RESTART_PAGES = 16384;

/** What the log file is cut back to when it starts over after growing past it. */
const LOG_SIZE_LIMIT_BYTES = 64 * 1024 * 1024;

// CommonJS run by the worker: its own connection, a passive checkpoint every interval (it never
// waits for nor blocks the writer), and a last one when told to stop. A checkpoint that fails (a
// full disk, a file made read-only) is tried again at the next interval. A log longer than
// `restartPages` is reported to the writer's thread, once for each length: an idle writer's log
// keeps its length until the next write, which starts it over by itself.
const THREAD = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.path, { fileMustExist: true });
const statement = db.prepare('PRAGMA wal_checkpoint(PASSIVE)');
let reported = 0;
const checkpoint = () => {
  try {
    const { log } = statement.get();
    if (log >= workerData.restartPages && log !== reported) parentPort.postMessage((reported = log));
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

export interface CheckpointerOptions {
  /** Log length in pages past which the log is made to start over (default 16,384: 64 MB of 4 KB pages). */
  restartPages?: number;
}

/**
 * Checkpoints a SQLite file's write-ahead log on a thread of its own. SQLite otherwise does it
 * inside the commit that crosses 1,000 pages: copying the log into the file and two `fsync`s,
 * tens of milliseconds on the event loop in every few MB written. The connection given stops
 * checkpointing by itself; if the thread fails it starts again.
 *
 * The log only starts over from its beginning when a write begins with all of it copied, which a
 * thread copying beside a busy writer never sees: the writer has always appended more by then. So
 * when the thread reports a long log, the writer's connection runs a passive checkpoint itself,
 * between its transactions: it copies only what was committed since the thread's copy, and its
 * next write starts the log over. The log stays bounded under any write load.
 */
export class SqliteCheckpointer {
  readonly #worker: Worker;
  readonly #exited: Promise<unknown>;

  constructor(db: SqliteDatabase, path: string, options: CheckpointerOptions = {}) {
    const driver = createRequire(import.meta.url).resolve('better-sqlite3');
    const restartPages = options.restartPages ?? RESTART_PAGES;
    this.#worker = new Worker(THREAD, { eval: true, workerData: { driver, path, intervalMs: INTERVAL_MS, restartPages } });
    this.#worker.unref();
    this.#exited = new Promise((resolve) => this.#worker.once('exit', resolve));
    this.#worker.on('message', () => {
      if (!db.open || db.inTransaction) return;
      try {
        db.pragma('wal_checkpoint(PASSIVE)');
      } catch {
        // Tried again at the thread's next report.
      }
    });
    this.#worker.on('error', () => {
      if (db.open) db.pragma(`wal_autocheckpoint = ${AUTO_CHECKPOINT_PAGES}`);
    });
    db.pragma('wal_autocheckpoint = 0');
    db.pragma(`journal_size_limit = ${LOG_SIZE_LIMIT_BYTES}`);
  }

  /** Runs a last checkpoint and ends the thread. */
  async stop(): Promise<void> {
    this.#worker.ref();
    this.#worker.postMessage('stop');
    await this.#exited;
  }
}
