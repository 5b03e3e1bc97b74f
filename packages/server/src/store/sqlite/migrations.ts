/**
 * The SQLite schema, as numbered migrations applied in order inside one transaction each.
 * Batches carry their live counts and usage totals; requests keep `result`, and `request_params`
 * their `params`, as the JSON text they arrived or were produced as, so reading results
 * concatenates stored text.
 */
export const SQLITE_MIGRATIONS: ReadonlyArray<{ version: number; name: string; sql: string }> = [
  {
    version: 1,
    name: 'batches and requests',
    sql: `
      CREATE TABLE batches (
        seq INTEGER PRIMARY KEY,
        id TEXT NOT NULL UNIQUE,
        workspace_id TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('creating', 'in_progress', 'canceling', 'ended', 'deleted')),
        processing INTEGER NOT NULL DEFAULT 0,
        succeeded INTEGER NOT NULL DEFAULT 0,
        errored INTEGER NOT NULL DEFAULT 0,
        canceled INTEGER NOT NULL DEFAULT 0,
        expired INTEGER NOT NULL DEFAULT 0,
        input_tokens INTEGER NOT NULL DEFAULT 0,
        output_tokens INTEGER NOT NULL DEFAULT 0,
        cache_creation_input_tokens INTEGER NOT NULL DEFAULT 0,
        cache_read_input_tokens INTEGER NOT NULL DEFAULT 0,
        created_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL,
        archive_at INTEGER NOT NULL,
        ended_at INTEGER,
        cancel_initiated_at INTEGER,
        archived_at INTEGER,
        purged INTEGER NOT NULL DEFAULT 0,
        claim_turn INTEGER NOT NULL DEFAULT 0
      );
      CREATE INDEX batches_by_workspace ON batches (workspace_id, id);
      CREATE INDEX batches_active ON batches (claim_turn) WHERE status IN ('in_progress', 'canceling');
      CREATE TABLE requests (
        key INTEGER PRIMARY KEY,
        batch_seq INTEGER NOT NULL,
        custom_id TEXT NOT NULL,
        params TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('queued', 'running', 'done')),
        attempts INTEGER NOT NULL DEFAULT 0,
        run_at INTEGER NOT NULL DEFAULT 0,
        lease_owner TEXT,
        lease_until INTEGER,
        result_type TEXT,
        result TEXT
      );
      CREATE INDEX requests_by_batch ON requests (batch_seq, key);
      CREATE INDEX requests_queued ON requests (batch_seq, run_at) WHERE state = 'queued';
      CREATE INDEX requests_running ON requests (lease_until) WHERE state = 'running';
    `,
  },
  {
    version: 2,
    name: 'api keys',
    sql: `
      CREATE TABLE api_keys (
        id TEXT PRIMARY KEY,
        workspace_id TEXT NOT NULL,
        hash TEXT NOT NULL UNIQUE,
        prefix TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        revoked_at INTEGER
      );
    `,
  },
  {
    version: 3,
    name: 'completion order of requests',
    // Requests already done in unfinished batches are numbered in key order, below every number
    // given later; ended batches are read in key order and need none.
    sql: `
      ALTER TABLE requests ADD COLUMN completion_seq INTEGER;
      UPDATE requests SET completion_seq = key
        WHERE state = 'done' AND batch_seq IN (SELECT seq FROM batches WHERE status IN ('in_progress', 'canceling'));
      CREATE TABLE completion_counter (id INTEGER PRIMARY KEY CHECK (id = 1), last_seq INTEGER NOT NULL);
      INSERT INTO completion_counter (id, last_seq) VALUES (1, COALESCE((SELECT MAX(key) FROM requests), 0));
      CREATE INDEX requests_by_completion ON requests (batch_seq, completion_seq) WHERE completion_seq IS NOT NULL;
    `,
  },
  {
    version: 4,
    name: 'batch creates, for idempotent creates',
    sql: `
      CREATE TABLE batch_creates (
        batch_id TEXT PRIMARY KEY,
        workspace_id TEXT NOT NULL,
        caller TEXT NOT NULL,
        body_digest TEXT NOT NULL,
        idempotency_key TEXT,
        created_at INTEGER NOT NULL
      );
      CREATE UNIQUE INDEX batch_creates_by_key ON batch_creates (workspace_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
      CREATE INDEX batch_creates_by_digest ON batch_creates (workspace_id, caller, body_digest, created_at);
      CREATE INDEX batch_creates_by_age ON batch_creates (created_at);
    `,
  },
  {
    version: 5,
    name: 'webhook endpoints and deliveries',
    sql: `
      ALTER TABLE batches ADD COLUMN announced INTEGER NOT NULL DEFAULT 0;
      UPDATE batches SET announced = 1 WHERE status IN ('ended', 'deleted');
      CREATE INDEX batches_unannounced ON batches (seq) WHERE announced = 0 AND status IN ('ended', 'deleted');
      CREATE TABLE webhook_endpoints (
        id TEXT PRIMARY KEY,
        workspace_id TEXT NOT NULL,
        url TEXT NOT NULL,
        secret TEXT NOT NULL,
        description TEXT,
        created_at INTEGER NOT NULL
      );
      CREATE INDEX webhook_endpoints_by_workspace ON webhook_endpoints (workspace_id, created_at);
      CREATE TABLE webhook_deliveries (
        seq INTEGER PRIMARY KEY,
        id TEXT NOT NULL UNIQUE,
        endpoint_id TEXT NOT NULL,
        batch_id TEXT NOT NULL,
        event_type TEXT NOT NULL,
        payload TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'failed')),
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at INTEGER,
        lease_owner TEXT,
        last_status INTEGER,
        last_error TEXT,
        created_at INTEGER NOT NULL,
        delivered_at INTEGER
      );
      CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE state = 'pending';
      CREATE INDEX webhook_deliveries_by_endpoint ON webhook_deliveries (endpoint_id, seq);
      CREATE INDEX webhook_deliveries_settled ON webhook_deliveries (created_at) WHERE state <> 'pending';
      CREATE TABLE webhook_attempts (
        delivery_seq INTEGER NOT NULL,
        attempt INTEGER NOT NULL,
        attempted_at INTEGER NOT NULL,
        status INTEGER,
        error TEXT,
        PRIMARY KEY (delivery_seq, attempt)
      );
    `,
  },
  {
    version: 6,
    name: 'files and chat batches',
    sql: `
      CREATE TABLE files (
        seq INTEGER PRIMARY KEY,
        id TEXT NOT NULL UNIQUE,
        workspace_id TEXT NOT NULL,
        purpose TEXT NOT NULL,
        filename TEXT NOT NULL,
        bytes INTEGER NOT NULL DEFAULT 0,
        created_at INTEGER NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('uploading', 'stored'))
      );
      CREATE INDEX files_by_workspace ON files (workspace_id, id);
      CREATE TABLE file_chunks (
        file_seq INTEGER NOT NULL,
        part INTEGER NOT NULL,
        data BLOB NOT NULL,
        PRIMARY KEY (file_seq, part)
      );
      ALTER TABLE batches ADD COLUMN dialect TEXT NOT NULL DEFAULT 'messages' CHECK (dialect IN ('messages', 'chat'));
      ALTER TABLE batches ADD COLUMN attributes TEXT;
    `,
  },
  {
    version: 7,
    name: 'maintenance indexes',
    // Archival and purge look only at the few batches due; without these they scan every batch.
    sql: `
      CREATE INDEX batches_unarchived ON batches (archive_at) WHERE status = 'ended' AND archived_at IS NULL;
      CREATE INDEX batches_to_purge ON batches (seq) WHERE purged = 0 AND (status = 'deleted' OR archived_at IS NOT NULL);
    `,
  },
  {
    version: 8,
    name: 'results files',
    // Ended batches not yet looked at for a results file (see sqlite-results-files.ts).
    sql: `
      ALTER TABLE batches ADD COLUMN results_filed INTEGER NOT NULL DEFAULT 0;
      CREATE INDEX batches_unfiled ON batches (seq) WHERE results_filed = 0 AND status = 'ended' AND archived_at IS NULL;
    `,
  },
  {
    version: 9,
    name: 'lease losses',
    // How often a request's lease lapsed while it ran (see quarantine.ts).
    sql: `ALTER TABLE requests ADD COLUMN lease_losses INTEGER NOT NULL DEFAULT 0;`,
  },
  {
    version: 10,
    name: 'webhook fairness and endpoint health',
    // Claims look at each endpoint's oldest due deliveries (no longer at all due ones) and at the
    // few leased ones; endpoints count failures in a row (a growing pause) and are disabled by a 410.
    sql: `
      ALTER TABLE webhook_endpoints ADD COLUMN consecutive_failures INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE webhook_endpoints ADD COLUMN paused_until INTEGER;
      ALTER TABLE webhook_endpoints ADD COLUMN disabled_at INTEGER;
      CREATE INDEX webhook_deliveries_due_by_endpoint ON webhook_deliveries (endpoint_id, next_attempt_at, seq) WHERE state = 'pending';
      CREATE INDEX webhook_deliveries_leased ON webhook_deliveries (endpoint_id) WHERE lease_owner IS NOT NULL;
      DROP INDEX webhook_deliveries_due;
    `,
  },
  {
    version: 11,
    name: 'request columns, large ones last',
    // SQLite reads a column stored after a large value by walking that value's overflow pages:
    // with params first, every claim, lease renewal and count read up to 32 MiB per request.
    sql: `
      CREATE TABLE requests_rebuilt (
        key INTEGER PRIMARY KEY,
        batch_seq INTEGER NOT NULL,
        custom_id TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('queued', 'running', 'done')),
        attempts INTEGER NOT NULL DEFAULT 0,
        lease_losses INTEGER NOT NULL DEFAULT 0,
        run_at INTEGER NOT NULL DEFAULT 0,
        lease_owner TEXT,
        lease_until INTEGER,
        result_type TEXT,
        completion_seq INTEGER,
        result TEXT,
        params TEXT NOT NULL
      );
      INSERT INTO requests_rebuilt (key, batch_seq, custom_id, state, attempts, lease_losses, run_at, lease_owner, lease_until, result_type, completion_seq, result, params)
        SELECT key, batch_seq, custom_id, state, attempts, lease_losses, run_at, lease_owner, lease_until, result_type, completion_seq, result, params FROM requests;
      DROP TABLE requests;
      ALTER TABLE requests_rebuilt RENAME TO requests;
      CREATE INDEX requests_by_batch ON requests (batch_seq, key);
      CREATE INDEX requests_queued ON requests (batch_seq, run_at) WHERE state = 'queued';
      CREATE INDEX requests_running ON requests (lease_until) WHERE state = 'running';
      CREATE INDEX requests_by_completion ON requests (batch_seq, completion_seq) WHERE completion_seq IS NOT NULL;
    `,
  },
  {
    version: 12,
    name: 'params in a table of their own',
    // SQLite rewrites a whole row on every update: with params in it, each claim, lease renewal
    // and completion copied up to 32 MiB. Params are written once and go with their request.
    sql: `
      CREATE TABLE request_params (key INTEGER PRIMARY KEY, params TEXT NOT NULL);
      INSERT INTO request_params (key, params) SELECT key, params FROM requests;
      ALTER TABLE requests DROP COLUMN params;
      CREATE TRIGGER request_params_deleted AFTER DELETE ON requests BEGIN
        DELETE FROM request_params WHERE key = old.key;
      END;
    `,
  },
  {
    version: 15,
    name: 'prefix keys',
    // Requests sharing a prefix (see translate/prefix-key.ts) are claimed together: a batch's
    // queued requests in run_at order, then by prefix key; NULL (no key) keeps arrival order.
    sql: `
      ALTER TABLE requests ADD COLUMN prefix_key TEXT;
      DROP INDEX requests_queued;
      CREATE INDEX requests_queued ON requests (batch_seq, run_at, prefix_key, key) WHERE state = 'queued';
    `,
  },
];
