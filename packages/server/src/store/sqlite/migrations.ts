/**
 * The SQLite schema, as numbered migrations applied in order inside one transaction each.
 * Batches carry their live counts and usage totals; requests keep `params` and `result` as the
 * JSON text they arrived or were produced as, so reading results concatenates stored text.
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
];
