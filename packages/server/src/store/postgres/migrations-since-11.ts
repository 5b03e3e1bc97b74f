/** The PostgreSQL migrations from version 11 on, in order (see `migrations.ts`). */
export const POSTGRES_MIGRATIONS_SINCE_11: ReadonlyArray<{ version: number; name: string; sql: string }> = [
  {
    version: 11,
    name: 'reasoning tokens and file expiry',
    // OpenAI batches report reasoning tokens apart from output tokens; uploaded files may expire
    // (`expires_after`), after which they are no longer served and maintenance removes them.
    sql: `
      ALTER TABLE batchd.batches ADD COLUMN reasoning_tokens bigint NOT NULL DEFAULT 0;
      ALTER TABLE batchd.files ADD COLUMN expires_at bigint;
      CREATE INDEX files_expiring ON batchd.files (expires_at) WHERE expires_at IS NOT NULL;
    `,
  },
  {
    version: 12,
    name: 'provider batches',
    // A request handed to a provider-batch backend stays 'running' with no lease: routed
    // (provider_backend set), then submitted (provider_submission set) until its result is written.
    sql: `
      CREATE TABLE batchd.provider_submissions (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        backend text NOT NULL,
        tag text NOT NULL,
        request_count integer NOT NULL,
        created_at bigint NOT NULL,
        provider_batch_id text,
        state text NOT NULL CHECK (state IN ('submitting', 'in_progress', 'canceling', 'ended', 'closed')),
        processing integer NOT NULL DEFAULT 0,
        succeeded integer NOT NULL DEFAULT 0,
        errored integer NOT NULL DEFAULT 0,
        canceled integer NOT NULL DEFAULT 0,
        expired integer NOT NULL DEFAULT 0,
        polled_at bigint,
        failure text,
        lease_owner text,
        lease_until bigint
      );
      CREATE INDEX provider_submissions_live ON batchd.provider_submissions (backend, id) WHERE state <> 'closed';
      CREATE TABLE batchd.provider_submission_batches (submission_id bigint NOT NULL, batch_seq bigint NOT NULL, PRIMARY KEY (batch_seq, submission_id));
      ALTER TABLE batchd.requests ADD COLUMN provider_backend text;
      ALTER TABLE batchd.requests ADD COLUMN provider_submission bigint;
      CREATE INDEX requests_routed ON batchd.requests (provider_backend, key)
        WHERE state = 'running' AND provider_backend IS NOT NULL AND provider_submission IS NULL;
      CREATE INDEX requests_at_provider ON batchd.requests (provider_submission, key) WHERE state = 'running' AND provider_submission IS NOT NULL;
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
  {
    version: 14,
    name: 'batch cost',
    // What a batch's answers cost, in nano-dollars, at the prices of the calls made and at direct
    // prices, and how many answers were priced or had no price.
    sql: `
      ALTER TABLE batchd.batches ADD COLUMN cost_nano_usd bigint NOT NULL DEFAULT 0;
      ALTER TABLE batchd.batches ADD COLUMN direct_cost_nano_usd bigint NOT NULL DEFAULT 0;
      ALTER TABLE batchd.batches ADD COLUMN priced_requests integer NOT NULL DEFAULT 0;
      ALTER TABLE batchd.batches ADD COLUMN unpriced_requests integer NOT NULL DEFAULT 0;
    `,
  },
  {
    version: 15,
    name: 'batch endpoint',
    // The OpenAI endpoint a chat batch's requests are for; claims hand it to the engine.
    sql: `ALTER TABLE batchd.batches ADD COLUMN endpoint text;`,
  },
  {
    version: 16,
    name: 'uploads',
    // Files assembled from parts (OpenAI's Uploads API); the parts are files of purpose upload_part.
    sql: `
      CREATE TABLE batchd.uploads (
        id text COLLATE "C" PRIMARY KEY,
        workspace_id text NOT NULL,
        filename text NOT NULL,
        purpose text NOT NULL,
        mime_type text NOT NULL,
        bytes bigint NOT NULL,
        created_at bigint NOT NULL,
        expires_at bigint NOT NULL,
        file_expires_after bigint,
        status text NOT NULL,
        file_id text
      );
      CREATE INDEX uploads_expiry ON batchd.uploads (expires_at);
    `,
  },
  {
    version: 17,
    name: 'leased requests only in requests_running',
    // As SQLite's version 20: requests at a provider batch run without a lease and stay out of the index.
    sql: `
      DROP INDEX batchd.requests_running;
      CREATE INDEX requests_running ON batchd.requests (lease_until) WHERE state = 'running' AND lease_until IS NOT NULL;
    `,
  },
  {
    version: 18,
    name: 'queued suspects',
    // As SQLite's version 21: requests that lost their lease twice, claimed one at a time apart from the rest.
    sql: `CREATE INDEX requests_suspects ON batchd.requests (run_at, key) WHERE state = 'queued' AND lease_losses >= 2;`,
  },
];
