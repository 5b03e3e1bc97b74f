import pg from 'pg';
import { startPostgresCluster } from '../../packages/server/test-support/postgres/postgres-cluster.js';

/**
 * PostgreSQL for one scenario: a throwaway cluster, and a fresh empty database for each run
 * in it. `fresh()` returns the URL to pass as `flags.db` to `BatchdProcess`, which overrides its
 * SQLite file; batchd migrates the empty database when it starts.
 */
export interface PostgresDatabases {
  /** Superuser URL of the cluster's `postgres` database. */
  readonly adminUrl: string;
  /** Creates an empty database and returns its URL. */
  fresh(): Promise<string>;
  /** Stops the cluster and deletes its directory. */
  stop(): Promise<void>;
}

export async function startPostgresDatabases(): Promise<PostgresDatabases> {
  const cluster = await startPostgresCluster();
  let count = 0;
  return {
    adminUrl: cluster.url,
    async fresh() {
      count += 1;
      const name = `batchd_bench_${count}`;
      const admin = new pg.Client({ connectionString: cluster.url });
      await admin.connect();
      try {
        await admin.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`);
      } finally {
        await admin.end();
      }
      const url = new URL(cluster.url);
      url.pathname = `/${name}`;
      return url.toString();
    },
    stop: () => cluster.stop(),
  };
}

/** Runs `body` with a cluster of its own, stopping the cluster however `body` ends. */
export async function withPostgres<T>(body: (databases: PostgresDatabases) => Promise<T>): Promise<T> {
  const databases = await startPostgresDatabases();
  try {
    return await body(databases);
  } finally {
    await databases.stop();
  }
}
