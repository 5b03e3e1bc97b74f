import { afterAll } from 'vitest';
import type { ServerFlags } from '../process/server-process.js';
import { createTestDatabase, postgresUnavailable, type TestDatabase } from './test-database.js';

/** One store a process test runs on: its name, the flags that select a fresh one, and whether to skip it. */
export type StoreFlagCase = [name: string, flags: () => Promise<ServerFlags>, skip: boolean];

/**
 * SQLite and PostgreSQL (skipped, saying why, when PostgreSQL is unavailable) for `describe.each`:
 * each call of a case's `flags` makes a fresh database, with `postgresFlags` added; the databases
 * are dropped after the file's tests. Call it at the top level of a test file.
 */
export function storeFlagCases(postgresFlags: ServerFlags = {}): StoreFlagCase[] {
  const unavailable = postgresUnavailable();
  const databases: TestDatabase[] = [];
  afterAll(async () => {
    await Promise.all(databases.map((database) => database.drop()));
  });
  const postgres = async (): Promise<ServerFlags> => {
    const database = await createTestDatabase();
    databases.push(database);
    return { db: database.url, ...postgresFlags };
  };
  return [
    ['SQLite', async () => ({}), false],
    [`PostgreSQL${unavailable ? ` (skipped: ${unavailable})` : ''}`, postgres, unavailable !== null],
  ];
}
