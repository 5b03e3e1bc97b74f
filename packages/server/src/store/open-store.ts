import type { Logger } from 'pino';
import { PostgresStore } from './postgres/postgres-store.js';
import { SqliteStore } from './sqlite/sqlite-store.js';
import type { BatchStore } from './store.js';

/** True for `postgres://` and `postgresql://` URLs; anything else is a SQLite file path. */
export function isPostgresUrl(db: string): boolean {
  return /^postgres(ql)?:\/\//.test(db);
}

/** Opens the store `--db` names, applying pending migrations. */
export async function openStore(db: string, logger: Logger): Promise<BatchStore> {
  if (!isPostgresUrl(db)) return new SqliteStore(db);
  return PostgresStore.open(db, { onError: (error) => logger.warn({ err: error }, 'database connection error; reconnecting') });
}
