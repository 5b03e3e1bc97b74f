import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { PostgresStore } from '../../src/store/postgres/postgres-store.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import type { BatchStore } from '../../src/store/store.js';
import { createTestDatabase, postgresUnavailable, type TestDatabase } from '../postgres/test-database.js';

/** The two store kinds, as tests that run on both name them. */
export type StoreKind = 'SQLite' | 'PostgreSQL';

/**
 * Fresh stores of either kind for a test file that runs on both: a SQLite file in a temporary
 * folder, or a PostgreSQL database of its own; all are removed when the file's tests end.
 * `skipped(kind)` is true where PostgreSQL cannot run here.
 */
export function freshStores(prefix: string): { open(kind: StoreKind): Promise<BatchStore>; skipped(kind: StoreKind): boolean } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const unavailable = postgresUnavailable();
  const databases: TestDatabase[] = [];
  let opened = 0;
  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    for (const database of databases) await database.drop();
  });
  return {
    async open(kind) {
      if (kind === 'SQLite') return new SqliteStore(join(dir, `store-${opened++}.sqlite`));
      const database = await createTestDatabase();
      databases.push(database);
      return PostgresStore.open(database.url);
    },
    skipped: (kind) => kind === 'PostgreSQL' && unavailable !== null,
  };
}
