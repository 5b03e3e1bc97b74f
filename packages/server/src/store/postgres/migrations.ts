import pg from 'pg';

/**
 * The PostgreSQL schema, as numbered migrations, all in the `batchd` schema. Batches carry their
 * live counts and usage totals; requests keep `params` and `result` as the JSON text they
 * arrived or were produced as, so reading results concatenates stored text. Times are
 * milliseconds since the epoch in `bigint` columns. Batch ids compare bytewise (`COLLATE "C"`),
 * like the time-sortable ids they are.
 */
export const POSTGRES_MIGRATIONS: ReadonlyArray<{ version: number; name: string; sql: string }> = [
  {
    version: 1,
    name: 'batches and requests',
    sql: `
      CREATE TABLE batchd.batches (
        seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        id text COLLATE "C" NOT NULL UNIQUE,
        workspace_id text NOT NULL,
        status text NOT NULL CHECK (status IN ('in_progress', 'canceling', 'ended', 'deleted')),
        processing integer NOT NULL DEFAULT 0,
        succeeded integer NOT NULL DEFAULT 0,
        errored integer NOT NULL DEFAULT 0,
        canceled integer NOT NULL DEFAULT 0,
        expired integer NOT NULL DEFAULT 0,
        input_tokens bigint NOT NULL DEFAULT 0,
        output_tokens bigint NOT NULL DEFAULT 0,
        cache_creation_input_tokens bigint NOT NULL DEFAULT 0,
        cache_read_input_tokens bigint NOT NULL DEFAULT 0,
        created_at bigint NOT NULL,
        expires_at bigint NOT NULL,
        archive_at bigint NOT NULL,
        ended_at bigint,
        cancel_initiated_at bigint,
        archived_at bigint,
        purged boolean NOT NULL DEFAULT false,
        claim_turn bigint NOT NULL DEFAULT 0
      );
      CREATE INDEX batches_by_workspace ON batchd.batches (workspace_id, id);
      CREATE INDEX batches_claimable ON batchd.batches (claim_turn, seq) WHERE status = 'in_progress';
      CREATE INDEX batches_unfinished ON batchd.batches (expires_at) WHERE status IN ('in_progress', 'canceling');
      CREATE INDEX batches_to_purge ON batchd.batches (seq) WHERE NOT purged AND (status = 'deleted' OR archived_at IS NOT NULL);
      CREATE SEQUENCE batchd.claim_turns;
      CREATE TABLE batchd.requests (
        key bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        batch_seq bigint NOT NULL,
        custom_id text NOT NULL,
        params text NOT NULL,
        state text NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'running', 'done')),
        attempts integer NOT NULL DEFAULT 0,
        run_at bigint NOT NULL DEFAULT 0,
        lease_owner text,
        lease_until bigint,
        result_type text,
        result text
      );
      CREATE INDEX requests_by_batch ON batchd.requests (batch_seq, key);
      CREATE INDEX requests_queued ON batchd.requests (batch_seq, run_at, key) WHERE state = 'queued';
      CREATE INDEX requests_running ON batchd.requests (lease_until) WHERE state = 'running';
    `,
  },
  {
    version: 2,
    name: 'backend pauses shared by all nodes',
    sql: `
      CREATE TABLE batchd.backend_pauses (
        backend text PRIMARY KEY,
        paused_until bigint NOT NULL
      );
    `,
  },
  {
    version: 3,
    name: 'api keys',
    sql: `
      CREATE TABLE batchd.api_keys (
        id text PRIMARY KEY,
        workspace_id text NOT NULL,
        hash text NOT NULL UNIQUE,
        prefix text NOT NULL,
        created_at bigint NOT NULL,
        revoked_at bigint
      );
    `,
  },
  {
    version: 4,
    name: 'completion order of requests',
    // Requests already done in unfinished batches are numbered in key order, below every number
    // the sequence gives later; ended batches are read in key order and need none.
    sql: `
      ALTER TABLE batchd.requests ADD COLUMN completion_seq bigint;
      UPDATE batchd.requests SET completion_seq = key
        WHERE state = 'done' AND batch_seq IN (SELECT seq FROM batchd.batches WHERE status IN ('in_progress', 'canceling'));
      CREATE SEQUENCE batchd.completion_seqs;
      SELECT setval('batchd.completion_seqs', GREATEST((SELECT max(key) FROM batchd.requests), 1));
      CREATE INDEX requests_by_completion ON batchd.requests (batch_seq, completion_seq) WHERE completion_seq IS NOT NULL;
    `,
  },
  {
    version: 5,
    name: 'batch creates, for idempotent creates',
    sql: `
      CREATE TABLE batchd.batch_creates (
        batch_id text COLLATE "C" PRIMARY KEY,
        workspace_id text NOT NULL,
        caller text NOT NULL,
        body_digest text NOT NULL,
        idempotency_key text,
        created_at bigint NOT NULL
      );
      CREATE UNIQUE INDEX batch_creates_by_key ON batchd.batch_creates (workspace_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
      CREATE INDEX batch_creates_by_digest ON batchd.batch_creates (workspace_id, caller, body_digest, created_at);
      CREATE INDEX batch_creates_by_age ON batchd.batch_creates (created_at);
    `,
  },
  {
    version: 6,
    name: 'webhook endpoints and deliveries',
    sql: `
      ALTER TABLE batchd.batches ADD COLUMN announced boolean NOT NULL DEFAULT false;
      UPDATE batchd.batches SET announced = true WHERE status IN ('ended', 'deleted');
      CREATE INDEX batches_unannounced ON batchd.batches (seq) WHERE NOT announced AND status IN ('ended', 'deleted');
      CREATE TABLE batchd.webhook_endpoints (
        id text PRIMARY KEY,
        workspace_id text NOT NULL,
        url text NOT NULL,
        secret text NOT NULL,
        description text,
        created_at bigint NOT NULL
      );
      CREATE INDEX webhook_endpoints_by_workspace ON batchd.webhook_endpoints (workspace_id, created_at);
      CREATE TABLE batchd.webhook_deliveries (
        seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        id text NOT NULL UNIQUE,
        endpoint_id text NOT NULL,
        batch_id text NOT NULL,
        event_type text NOT NULL,
        payload text NOT NULL,
        state text NOT NULL CHECK (state IN ('pending', 'delivered', 'failed')),
        attempts integer NOT NULL DEFAULT 0,
        next_attempt_at bigint,
        lease_owner text,
        last_status integer,
        last_error text,
        created_at bigint NOT NULL,
        delivered_at bigint
      );
      CREATE INDEX webhook_deliveries_due ON batchd.webhook_deliveries (next_attempt_at) WHERE state = 'pending';
      CREATE INDEX webhook_deliveries_by_endpoint ON batchd.webhook_deliveries (endpoint_id, seq);
      CREATE INDEX webhook_deliveries_settled ON batchd.webhook_deliveries (created_at) WHERE state <> 'pending';
      CREATE TABLE batchd.webhook_attempts (
        delivery_seq bigint NOT NULL,
        attempt integer NOT NULL,
        attempted_at bigint NOT NULL,
        status integer,
        error text,
        PRIMARY KEY (delivery_seq, attempt)
      );
    `,
  },
  {
    version: 7,
    name: 'files and chat batches',
    sql: `
      CREATE TABLE batchd.files (
        seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        id text COLLATE "C" NOT NULL UNIQUE,
        workspace_id text NOT NULL,
        purpose text NOT NULL,
        filename text NOT NULL,
        bytes bigint NOT NULL DEFAULT 0,
        created_at bigint NOT NULL
      );
      CREATE INDEX files_by_workspace ON batchd.files (workspace_id, id);
      CREATE TABLE batchd.file_chunks (
        file_seq bigint NOT NULL,
        part integer NOT NULL,
        data bytea NOT NULL,
        PRIMARY KEY (file_seq, part)
      );
      ALTER TABLE batchd.batches ADD COLUMN dialect text NOT NULL DEFAULT 'messages' CHECK (dialect IN ('messages', 'chat'));
      ALTER TABLE batchd.batches ADD COLUMN attributes text;
    `,
  },
  {
    version: 8,
    name: 'archival index',
    // Archival looks only at the ended batches not yet archived, not at every batch stored.
    sql: `
      CREATE INDEX batches_unarchived ON batchd.batches (archive_at) WHERE status = 'ended' AND archived_at IS NULL;
    `,
  },
  {
    version: 9,
    name: 'lease losses',
    // How often a request's lease lapsed while it ran (see quarantine.ts).
    sql: `ALTER TABLE batchd.requests ADD COLUMN lease_losses integer NOT NULL DEFAULT 0;`,
  },
  {
    version: 10,
    name: 'webhook fairness and endpoint health',
    // Claims look at each endpoint's oldest due deliveries (no longer at all due ones) and at the
    // few leased ones; endpoints count failures in a row (a growing pause) and are disabled by a 410.
    sql: `
      ALTER TABLE batchd.webhook_endpoints ADD COLUMN consecutive_failures integer NOT NULL DEFAULT 0;
      ALTER TABLE batchd.webhook_endpoints ADD COLUMN paused_until bigint;
      ALTER TABLE batchd.webhook_endpoints ADD COLUMN disabled_at bigint;
      CREATE INDEX webhook_deliveries_due_by_endpoint ON batchd.webhook_deliveries (endpoint_id, next_attempt_at, seq) WHERE state = 'pending';
      CREATE INDEX webhook_deliveries_leased ON batchd.webhook_deliveries (endpoint_id) WHERE lease_owner IS NOT NULL;
      DROP INDEX batchd.webhook_deliveries_due;
    `,
  },
  {
    version: 13,
    name: 'prefix keys',
    // Requests sharing a prefix (see translate/prefix-key.ts) are claimed together: a batch's
    // queued requests in run_at order, then by prefix key; NULL (no key) keeps arrival order.
    sql: `
      ALTER TABLE batchd.requests ADD COLUMN prefix_key text;
      DROP INDEX batchd.requests_queued;
      CREATE INDEX requests_queued ON batchd.requests (batch_seq, run_at, prefix_key, key) WHERE state = 'queued';
    `,
  },
];

/** Key of the transaction-scoped advisory lock that serialises migrators (`batchd` in ASCII). */
const MIGRATION_LOCK = 0x6261746368640000n;

/**
 * Applies the migrations not yet recorded, all in one transaction under an advisory lock: a
 * second node starting at the same time waits for the first, then finds nothing left to do.
 * Each migration's version row is inserted before its SQL runs. Returns the versions applied.
 */
export async function applyMigrations(client: pg.ClientBase): Promise<number[]> {
  await client.query('BEGIN');
  try {
    await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK.toString()]);
    await client.query('CREATE SCHEMA IF NOT EXISTS batchd');
    await client.query(`CREATE TABLE IF NOT EXISTS batchd.migrations (
      version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
    const { rows } = await client.query<{ version: number }>('SELECT version FROM batchd.migrations');
    const done = new Set(rows.map((row) => row.version));
    const applied: number[] = [];
    for (const migration of POSTGRES_MIGRATIONS) {
      if (done.has(migration.version)) continue;
      await client.query('INSERT INTO batchd.migrations (version, name) VALUES ($1, $2)', [migration.version, migration.name]);
      await client.query(migration.sql);
      applied.push(migration.version);
    }
    await client.query('COMMIT');
    return applied;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}

/** Connects to `url`, applies pending migrations and disconnects: what `batchd migrate` runs. */
export async function migratePostgres(url: string): Promise<number[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await applyMigrations(client);
  } finally {
    await client.end();
  }
}
