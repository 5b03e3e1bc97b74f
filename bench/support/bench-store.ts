import { withPostgres } from './postgres-database.js';

/**
 * The store a scenario's batchd processes run on: SQLite (a file in each process's directory,
 * batchd's default) or PostgreSQL (a cluster of the scenario's own, a fresh database per run).
 */

export type StoreKind = 'sqlite' | 'postgres';

export interface BenchStore {
  kind: StoreKind;
  /** `BatchdProcess` flags for a fresh store: none for SQLite, `db` for PostgreSQL. */
  fresh(): Promise<{ db?: string }>;
  /** CPU seconds PostgreSQL's processes have used so far; none on SQLite. */
  databaseCpuSeconds(): number | undefined;
}

/** A scenario's name on `kind`: the SQLite one keeps the plain name, the PostgreSQL one ends in `-pg`. */
export function nameOn(name: string, kind: StoreKind): string {
  return kind === 'sqlite' ? name : `${name}-pg`;
}

/** Runs `body` with a store of `kind`; a PostgreSQL cluster is stopped however `body` ends. */
export function withStore<T>(kind: StoreKind, body: (store: BenchStore) => Promise<T>): Promise<T> {
  if (kind === 'sqlite') return body({ kind, fresh: async () => ({}), databaseCpuSeconds: () => undefined });
  return withPostgres((databases) => body({ kind, fresh: async () => ({ db: await databases.fresh() }), databaseCpuSeconds: () => databases.cpuSeconds() }));
}
