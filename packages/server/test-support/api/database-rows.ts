import Database from 'better-sqlite3';
import pg from 'pg';

/**
 * The rows `sql` reads from a batchd database, named as `--db` names it: a SQLite file (opened
 * read-only beside the server, running or stopped) or a PostgreSQL URL (searching the `batchd`
 * schema, so one statement reads both).
 */
export async function databaseRows<T>(db: string, sql: string): Promise<T[]> {
  if (!/^postgres(ql)?:\/\//.test(db)) {
    const sqlite = new Database(db, { readonly: true, fileMustExist: true });
    try {
      return sqlite.prepare(sql).all() as T[];
    } finally {
      sqlite.close();
    }
  }
  const client = new pg.Client({ connectionString: db, options: '-c search_path=batchd' });
  await client.connect();
  try {
    return (await client.query(sql)).rows as T[];
  } finally {
    await client.end();
  }
}
