import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';

/** What the PostgreSQL global setup hands to the tests. */
export interface PostgresTestContext {
  /** Admin URL of the test server; empty when there is none. */
  url: string;
  /** A migrated database that test databases are copied from. */
  template: string;
  /** Why there is no server, when `url` is empty. */
  unavailable: string;
}

declare module 'vitest' {
  export interface ProvidedContext {
    postgres: PostgresTestContext;
  }
}

/** A database of its own for one test or test file. */
export interface TestDatabase {
  url: string;
  /** Drops the database, closing any connection still open to it. */
  drop(): Promise<void>;
}

/** URL of database `name` on the server of `url`. */
export function databaseUrl(url: string, name: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${name}`;
  return parsed.toString();
}

/** Runs `sql` on the admin database of `url` over a short-lived connection. */
export async function adminQuery(url: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** Why the PostgreSQL tests cannot run here, or null when they can. */
export function postgresUnavailable(): string | null {
  const context = inject('postgres');
  return context.url === '' ? context.unavailable : null;
}

/**
 * Creates a fresh database: a copy of the migrated template, or an empty one with
 * `{ migrated: false }`. Names are random, so test files running in parallel never collide.
 */
export async function createTestDatabase(options: { migrated?: boolean } = {}): Promise<TestDatabase> {
  const { url, template } = inject('postgres');
  if (url === '') throw new Error('no PostgreSQL server for tests');
  const name = `batchd_test_${randomBytes(6).toString('hex')}`;
  const source = options.migrated === false ? 'template0' : template;
  await adminQuery(url, `CREATE DATABASE ${pg.escapeIdentifier(name)} TEMPLATE ${pg.escapeIdentifier(source)}`);
  return {
    url: databaseUrl(url, name),
    drop: () => adminQuery(url, `DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)} WITH (FORCE)`),
  };
}
