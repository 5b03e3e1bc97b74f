/** The SQLite migrations from version 13 on, in order (see `migrations.ts`). */
export const SQLITE_MIGRATIONS_SINCE_13: ReadonlyArray<{ version: number; name: string; sql: string }> = [
  {
    version: 13,
    name: 'reasoning tokens and file expiry',
    // OpenAI batches report reasoning tokens apart from output tokens; uploaded files may expire
    // (`expires_after`), after which they are no longer served and maintenance removes them.
    sql: `
      ALTER TABLE batches ADD COLUMN reasoning_tokens INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE files ADD COLUMN expires_at INTEGER;
      CREATE INDEX files_expiring ON files (expires_at) WHERE expires_at IS NOT NULL;
    `,
  },
  {
    version: 14,
    name: 'provider batches',
    // A request handed to a provider-batch backend stays 'running' with no lease and a row in
    // provider_requests: routed (no submission yet), then submitted, until its result is written.
    // The row is apart so that requests keep their large result last (see version 11).
    sql: `
      CREATE TABLE provider_submissions (
        id INTEGER PRIMARY KEY,
        backend TEXT NOT NULL,
        tag TEXT NOT NULL,
        request_count INTEGER NOT NULL,
        created_at INTEGER NOT NULL,
        provider_batch_id TEXT,
        state TEXT NOT NULL CHECK (state IN ('submitting', 'in_progress', 'canceling', 'ended', 'closed')),
        processing INTEGER NOT NULL DEFAULT 0,
        succeeded INTEGER NOT NULL DEFAULT 0,
        errored INTEGER NOT NULL DEFAULT 0,
        canceled INTEGER NOT NULL DEFAULT 0,
        expired INTEGER NOT NULL DEFAULT 0,
        polled_at INTEGER,
        failure TEXT,
        lease_owner TEXT,
        lease_until INTEGER
      );
      CREATE INDEX provider_submissions_live ON provider_submissions (backend, id) WHERE state <> 'closed';
      CREATE TABLE provider_submission_batches (submission_id INTEGER NOT NULL, batch_seq INTEGER NOT NULL, PRIMARY KEY (batch_seq, submission_id));
      CREATE TABLE provider_requests (key INTEGER PRIMARY KEY, backend TEXT NOT NULL, submission_id INTEGER);
      CREATE INDEX provider_requests_routed ON provider_requests (backend, key) WHERE submission_id IS NULL;
      CREATE INDEX provider_requests_submitted ON provider_requests (submission_id, key) WHERE submission_id IS NOT NULL;
      CREATE TRIGGER provider_requests_deleted AFTER DELETE ON requests BEGIN
        DELETE FROM provider_requests WHERE key = old.key;
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
  {
    version: 16,
    name: 'batch cost',
    // What a batch's answers cost, in nano-dollars, at the prices of the calls made and at direct
    // prices, and how many answers were priced or had no price.
    sql: `
      ALTER TABLE batches ADD COLUMN cost_nano_usd INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE batches ADD COLUMN direct_cost_nano_usd INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE batches ADD COLUMN priced_requests INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE batches ADD COLUMN unpriced_requests INTEGER NOT NULL DEFAULT 0;
    `,
  },
  {
    version: 17,
    name: 'batch endpoint',
    // The OpenAI endpoint a chat batch's requests are for; claims hand it to the engine.
    sql: `ALTER TABLE batches ADD COLUMN endpoint TEXT;`,
  },
  {
    version: 18,
    name: 'params in pieces',
    // Large params are written and read a piece at a time: `request_params` holds the first piece
    // and, in `more`, the bytes of the rest, which `request_param_pieces` holds in order.
    sql: `
      ALTER TABLE request_params ADD COLUMN more INTEGER NOT NULL DEFAULT 0;
      CREATE TABLE request_param_pieces (key INTEGER NOT NULL, piece INTEGER NOT NULL, text TEXT NOT NULL, PRIMARY KEY (key, piece));
      CREATE TRIGGER request_param_pieces_deleted AFTER DELETE ON request_params WHEN old.more > 0 BEGIN
        DELETE FROM request_param_pieces WHERE key = old.key;
      END;
    `,
  },
  {
    version: 19,
    name: 'uploads',
    // Files assembled from parts (OpenAI's Uploads API); the parts are files of purpose upload_part.
    sql: `
      CREATE TABLE uploads (
        id TEXT PRIMARY KEY,
        workspace_id TEXT NOT NULL,
        filename TEXT NOT NULL,
        purpose TEXT NOT NULL,
        mime_type TEXT NOT NULL,
        bytes INTEGER NOT NULL,
        created_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL,
        file_expires_after INTEGER,
        status TEXT NOT NULL,
        file_id TEXT
      );
      CREATE INDEX uploads_expiry ON uploads (expires_at);
    `,
  },
  {
    version: 20,
    name: 'leased requests only in requests_running',
    // A request handed to a provider batch runs without a lease; out of this index, routing and
    // ending it leave the index alone. Its readers ask `lease_until < ?` or `>= ?`, which imply the condition.
    sql: `
      DROP INDEX requests_running;
      CREATE INDEX requests_running ON requests (lease_until) WHERE state = 'running' AND lease_until IS NOT NULL;
    `,
  },
  {
    version: 21,
    name: 'queued suspects',
    // Requests that lost their lease twice (quarantine.ts), claimed one at a time apart from the rest: few, found without a scan.
    sql: `CREATE INDEX requests_suspects ON requests (run_at, key) WHERE state = 'queued' AND lease_losses >= 2;`,
  },
];
