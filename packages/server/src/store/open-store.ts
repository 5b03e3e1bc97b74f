import type { Logger } from 'pino';
import type { BatchStore } from './store.js';

/** True for `postgres://` and `postgresql://` URLs; anything else is a SQLite file path. */
export function isPostgresUrl(db: string): boolean {
  return /^postgres(ql)?:\/\//.test(db);
}

/** Opens the store `--db` names, applying pending migrations; only that store's driver is loaded. */
export async function openStore(db: string, logger: Logger): Promise<BatchStore> {
  if (!isPostgresUrl(db)) {
    const { SqliteStore } = await import('./sqlite/sqlite-store.js');
    return new SqliteStore(db);
  }
  const { PostgresStore } = await import('./postgres/postgres-store.js');
  return PostgresStore.open(db, { onError: (error) => logger.warn({ err: error }, 'database connection error; reconnecting') });
}
