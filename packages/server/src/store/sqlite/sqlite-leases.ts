import type { Statement } from 'better-sqlite3';
import { MAX_LEASE_LOSSES, QUARANTINED_RESULT, SUSPECT_LEASE_LOSSES } from '../quarantine.js';
import { CLAIM_PARAMS_BYTES, type ClaimedRequest, type Dialect } from '../store.js';
import type { SqliteCompletions } from './sqlite-completions.js';
import type { SqliteDatabase } from './sqlite-database.js';
import { paramsBytes, type SqliteParams } from './sqlite-params.js';

/** How many active batches one claim looks at, taking the longest-unserved first. */
const CLAIM_FAN_OUT = 64;

const STATEMENTS = {
  // The IN term is the partial index's own condition, so SQLite reads batches_active in
  // claim_turn order instead of scanning and sorting every batch ever stored.
  activeBatches: `SELECT seq FROM batches WHERE status IN ('in_progress', 'canceling') AND status = 'in_progress'
    AND expires_at > ? ORDER BY claim_turn LIMIT ${CLAIM_FAN_OUT}`,
  takeTurn: `UPDATE batches SET claim_turn = ? WHERE seq = ?`,
  // The batch's next runnable requests in the order they are taken (those sharing a prefix key
  // together), each with its params' size (octet_length reads a value's size without reading it).
  // Leased one by one by key: an UPDATE over a subquery (or with RETURNING) builds temporary tables
  // on every run, whose page-cache memory glibc hands back to the kernel and faults in again, which
  // made a claim of 40 rows cost about 1 ms in a process that had just created a large batch.
  runnable: `SELECT r.key, r.custom_id AS customId, r.attempts, r.prefix_key AS prefixKey, ${paramsBytes('p')} AS bytes
    FROM requests r JOIN request_params p ON p.key = r.key
    WHERE r.batch_seq = ? AND r.state = 'queued' AND r.run_at <= ? AND r.lease_losses < ${SUSPECT_LEASE_LOSSES}
    ORDER BY r.run_at, r.prefix_key, r.key LIMIT ?`,
  // Runnable suspects (quarantine.ts) of active batches, longest waiting first, read through `requests_suspects`.
  suspects: `SELECT r.key, r.batch_seq AS seq, r.custom_id AS customId, r.attempts, r.prefix_key AS prefixKey, ${paramsBytes('p')} AS bytes
    FROM requests r JOIN request_params p ON p.key = r.key JOIN batches b ON b.seq = r.batch_seq
    WHERE r.state = 'queued' AND r.lease_losses >= ${SUSPECT_LEASE_LOSSES} AND r.run_at <= ? AND b.status = 'in_progress' AND b.expires_at > ?
    ORDER BY r.run_at, r.key LIMIT ?`,
  lease: `UPDATE requests SET state = 'running', lease_owner = ?, lease_until = ?, attempts = attempts + 1 WHERE key = ?`,
  batchOf: `SELECT id, dialect, endpoint, expires_at AS expiresAt FROM batches WHERE seq = ?`,
  countLeased: `SELECT count(*) FROM requests WHERE state = 'running' AND lease_until >= ?`,
  renew: `UPDATE requests SET lease_until = ? WHERE key = ? AND state = 'running' AND lease_owner = ?`,
  lapsed: `SELECT r.key, r.batch_seq AS batchSeq, r.lease_losses AS losses, b.dialect
    FROM requests r JOIN batches b ON b.seq = r.batch_seq WHERE r.state = 'running' AND r.lease_until < ?`,
  requeue: `UPDATE requests SET state = 'queued', lease_owner = NULL, lease_until = NULL, lease_losses = lease_losses + 1 WHERE key = ?`,
  quarantine: `UPDATE requests SET state = 'done', result_type = 'errored', result = ?, completion_seq = ?,
    lease_owner = NULL, lease_until = NULL, lease_losses = lease_losses + 1 WHERE key = ?`,
  countQuarantined: `UPDATE batches SET processing = processing - 1, errored = errored + 1 WHERE seq = ?`,
};

/** Requests leased by one claim; those with large params listed in `pieced` with the bytes still to read. */
interface Claim {
  claimed: ClaimedRequest[];
  pieced: Array<{ request: ClaimedRequest; more: number }>;
}

/** What a claimed request carries of its batch. */
interface ClaimBatch {
  id: string;
  dialect: Dialect;
  endpoint: string | null;
  expiresAt: number;
}

interface RunnableRow {
  key: number;
  customId: string;
  attempts: number;
  prefixKey: string | null;
  bytes: number;
}

/**
 * Leases on SQLite: claiming requests round-robin across active batches, renewing leases, and
 * releasing lapsed ones, each request back in the queue or quarantined on its last allowed loss
 * (see `quarantine.ts`). Every method runs inside the caller's write transaction.
 */
export class SqliteLeases {
  private readonly sql: Record<keyof typeof STATEMENTS, Statement>;
  private claimTurn: number;

  constructor(
    db: SqliteDatabase,
    private readonly completions: SqliteCompletions,
    private readonly params: SqliteParams,
  ) {
    this.sql = Object.fromEntries(Object.entries(STATEMENTS).map(([name, text]) => [name, db.prepare(text)])) as SqliteLeases['sql'];
    this.claimTurn = (db.prepare('SELECT COALESCE(MAX(claim_turn), 0) FROM batches').pluck().get() as number) + 1;
  }

  /**
   * Leases up to `suspects` suspects (quarantine.ts), then runnable requests round-robin across
   * batches. Large params come back as their first piece, those requests listed in `pieced` with
   * the bytes still to read, for the caller to complete after the transaction.
   */
  claim(owner: string, limit: number, leaseUntil: number, now: number, clusterLimit?: number, paramsBytes = CLAIM_PARAMS_BYTES, suspects = 1): Claim {
    if (clusterLimit !== undefined) limit = Math.min(limit, clusterLimit - (this.sql.countLeased.pluck().get(now) as number));
    const claim: Claim = { claimed: [], pieced: [] };
    const { claimed } = claim;
    let bytesLeft = paramsBytes;
    if (suspects > 0 && limit > 0) {
      for (const row of this.sql.suspects.all(now, now, Math.min(suspects, limit)) as Array<RunnableRow & { seq: number }>) {
        this.sql.lease.run(owner, leaseUntil, row.key);
        bytesLeft -= this.add(claim, row, this.batchOf(row.seq), true);
      }
    }
    const batches = this.sql.activeBatches.pluck().all(now) as number[];
    for (let i = 0; i < batches.length && claimed.length < limit && bytesLeft > 0; i++) {
      const seq = batches[i]!;
      const share = Math.ceil((limit - claimed.length) / (batches.length - i));
      this.sql.takeTurn.run(this.claimTurn++, seq);
      const rows = this.takeRunnable(owner, leaseUntil, seq, now, share, bytesLeft);
      if (rows.length === 0) continue;
      const batch = this.batchOf(seq);
      for (const row of rows) bytesLeft -= this.add(claim, row, batch);
    }
    return claim;
  }

  private batchOf(seq: number): ClaimBatch {
    return this.sql.batchOf.get(seq) as ClaimBatch;
  }

  /** Adds a leased row of `batch` to `claim` with its params (the first piece of large ones); returns the params' size. */
  private add(claim: Claim, row: RunnableRow, batch: ClaimBatch, suspect = false): number {
    const { params, bytes, more } = this.params.read(row.key);
    const request: ClaimedRequest = {
      key: row.key,
      batchId: batch.id,
      customId: row.customId,
      params,
      dialect: batch.dialect,
      endpoint: batch.endpoint,
      attempt: row.attempts + 1,
      expiresAt: batch.expiresAt,
      prefixKey: row.prefixKey ?? undefined,
    };
    if (suspect) request.suspect = true;
    claim.claimed.push(request);
    if (more > 0) claim.pieced.push({ request, more });
    return bytes;
  }

  /** Leases up to `limit` of a batch's runnable requests while the params before each stay under `bytes` (so the first always). */
  private takeRunnable(owner: string, leaseUntil: number, seq: number, now: number, limit: number, bytes: number): RunnableRow[] {
    const rows = this.sql.runnable.all(seq, now, limit) as RunnableRow[];
    let before = 0;
    let taken = 0;
    while (taken < rows.length && before < bytes) before += rows[taken++]!.bytes;
    rows.length = taken;
    for (const row of rows) this.sql.lease.run(owner, leaseUntil, row.key);
    return rows;
  }

  renew(owner: string, keys: number[], leaseUntil: number): void {
    for (const key of keys) this.sql.renew.run(leaseUntil, key, owner);
  }

  /** Releases every lease that lapsed before `until`; returns the batch of each request released, to settle. */
  release(until: number): number[] {
    const rows = this.sql.lapsed.all(until) as Array<{ key: number; batchSeq: number; losses: number; dialect: Dialect }>;
    for (const row of rows) {
      if (row.losses + 1 < MAX_LEASE_LOSSES) {
        this.sql.requeue.run(row.key);
        continue;
      }
      this.sql.quarantine.run(row.dialect === 'messages' ? QUARANTINED_RESULT : null, this.completions.reserve(1) + 1, row.key);
      this.sql.countQuarantined.run(row.batchSeq);
    }
    return rows.map((row) => row.batchSeq);
  }
}
