import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { migratePostgres } from '../../src/store/postgres/migrations.js';
import { startPostgresCluster, type PostgresCluster } from './postgres-cluster.js';
import { adminQuery, databaseUrl, type PostgresTestContext } from './test-database.js';

/**
 * Vitest global setup: makes a PostgreSQL server available to the tests. It uses
 * `TEST_DATABASE_URL` when set, and otherwise starts a throwaway cluster for the run (exported
 * as `TEST_DATABASE_URL` to processes the tests spawn). Either way it migrates a template
 * database that each test copies. When no server can be had, the PostgreSQL tests skip and
 * name the reason, except on CI (`CI` set), where the run fails with it.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  let cluster: PostgresCluster | undefined;
  let url = process.env.TEST_DATABASE_URL ?? '';
  if (url === '') {
    try {
      cluster = await startPostgresCluster();
    } catch (error) {
      const reason = `no PostgreSQL: TEST_DATABASE_URL is unset and a throwaway server could not be started: ${
        error instanceof Error ? error.message : String(error)
      }`;
      if (process.env.CI) throw new Error(`${reason}\nOn CI the PostgreSQL tests must run: install PostgreSQL or set TEST_DATABASE_URL.`);
      project.provide('postgres', { url: '', template: '', unavailable: reason } satisfies PostgresTestContext);
      return async () => undefined;
    }
    url = cluster.url;
    process.env.TEST_DATABASE_URL = url;
  }
  const template = `batchd_template_${process.pid}`;
  const dropTemplate = () => adminQuery(url, `DROP DATABASE IF EXISTS ${pg.escapeIdentifier(template)} WITH (FORCE)`);
  try {
    await dropTemplate();
    await adminQuery(url, `CREATE DATABASE ${pg.escapeIdentifier(template)}`);
    await migratePostgres(databaseUrl(url, template));
  } catch (error) {
    await cluster?.stop();
    throw error;
  }
  project.provide('postgres', { url, template, unavailable: '' } satisfies PostgresTestContext);
  return async () => {
    if (cluster) {
      await cluster.stop();
      delete process.env.TEST_DATABASE_URL;
    } else {
      await dropTemplate();
    }
  };
}
