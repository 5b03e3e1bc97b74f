import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import type { BatchStore } from './store.js';

/** True for `postgres://` and `postgresql://` URLs; anything else is a SQLite file path. */
export function isPostgresUrl(db: string): boolean {
  return /^postgres(ql)?:\/\//.test(db);
}

/**
 * Opens the store `--db` names, applying pending migrations; only that store's driver is loaded.
 * `takeOver: false` opens a SQLite file beside the process that runs it, without recovering its
 * work; `resultsFileMinRequests` turns on results files for a SQLite store, which leave
 * `minFreeDiskBytes` of its disk free; `clock` dates what
 * taking over a SQLite file ends.
 */
export async function openStore(db: string, logger: Logger, options: { takeOver?: boolean; resultsFileMinRequests?: number; minFreeDiskBytes?: number; clock?: Clock } = {}): Promise<BatchStore> {
  if (!isPostgresUrl(db)) {
    const { SqliteStore } = await import('./sqlite/sqlite-store.js');
    return new SqliteStore(db, options);
  }
  const { PostgresStore } = await import('./postgres/postgres-store.js');
  return PostgresStore.open(db, { onError: (error) => logger.warn({ err: error }, 'database connection error; reconnecting') });
}

/**
 * Applies the pending migrations of the store `db` names and closes it: what `batchd migrate`
 * runs. Returns the numbers of the migrations applied where the store reports them (PostgreSQL);
 * a SQLite file is brought up to date on opening and reports none.
 */
export async function migrateStore(db: string): Promise<number[]> {
  if (isPostgresUrl(db)) {
    const { migratePostgres } = await import('./postgres/migrations.js');
    return migratePostgres(db);
  }
  const { openSqliteDatabase } = await import('./sqlite/sqlite-database.js');
  openSqliteDatabase(db).close();
  return [];
}
