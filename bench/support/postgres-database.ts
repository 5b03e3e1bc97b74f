import { readFileSync } from 'node:fs';
import pg from 'pg';
import { readTreeCpuSeconds } from './proc-stats.js';
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
  /** CPU seconds the cluster's processes (server, backends, background workers) have used so far. */
  cpuSeconds(): number;
  /** Stops the cluster and deletes its directory. */
  stop(): Promise<void>;
}

export async function startPostgresDatabases(): Promise<PostgresDatabases> {
  const cluster = await startPostgresCluster();
  const postmaster = await postmasterPid(cluster.url);
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
    cpuSeconds: () => readTreeCpuSeconds(postmaster),
    stop: () => cluster.stop(),
  };
}

/** The server process: the parent of a backend. */
async function postmasterPid(url: string): Promise<number> {
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  try {
    const { rows } = await admin.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
    const stat = readFileSync(`/proc/${rows[0]!.pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } finally {
    await admin.end();
  }
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
