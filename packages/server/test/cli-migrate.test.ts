import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { POSTGRES_MIGRATIONS } from '../src/store/postgres/migrations.js';
import { SQLITE_MIGRATIONS } from '../src/store/sqlite/migrations.js';
import { createTestDatabase, postgresUnavailable } from '../test-support/postgres/test-database.js';
import { runCli } from '../test-support/process/run-cli.js';

const dir = mkdtempSync(join(tmpdir(), 'batchd-migrate-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const unavailable = postgresUnavailable();

describe('batchd migrate', () => {
  it('brings a new SQLite file up to date, and says so', async () => {
    const db = join(dir, 'fresh.sqlite');
    const result = await runCli(['migrate', '--db', db]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe('database is up to date\n');
    const file = new Database(db, { readonly: true });
    const versions = file.prepare('SELECT version FROM schema_migrations ORDER BY version').pluck().all();
    file.close();
    expect(versions).toEqual(SQLITE_MIGRATIONS.map((migration) => migration.version));
  });

  it.skipIf(unavailable !== null)(`lists the PostgreSQL migrations it applied, then none${unavailable ? ` (skipped: ${unavailable})` : ''}`, async () => {
    const database = await createTestDatabase({ migrated: false });
    try {
      const first = await runCli(['migrate', '--db', database.url]);
      expect(first.code, first.stderr).toBe(0);
      expect(first.stdout).toBe(`applied migrations ${POSTGRES_MIGRATIONS.map((migration) => migration.version).join(', ')}\n`);
      const client = new pg.Client({ connectionString: database.url });
      await client.connect();
      const { rows } = await client.query<{ n: number }>('SELECT count(*)::int AS n FROM batchd.migrations');
      await client.end();
      expect(rows[0]!.n).toBe(POSTGRES_MIGRATIONS.length);
      const again = await runCli(['migrate', '--db', database.url]);
      expect(again.code, again.stderr).toBe(0);
      expect(again.stdout).toBe('database is up to date\n');
    } finally {
      await database.drop();
    }
  });
});
