import type { Statement } from 'better-sqlite3';
import type { CompletionSignal } from '../completed-results.js';
import type { ProviderBatchStore, ProviderCompletion, StoreLineFrame, SubmissionLimits, SubmissionRecord, SubmissionRequest } from '../provider-batch-store.js';
import type { Dialect } from '../store.js';
import { LINE_OVERHEAD_BYTES, MAX_LISTED, SUBMISSION_COLUMNS, submissionTag, toSubmissionRecord, type SubmissionRow } from '../submission-row.js';
import { BatchDeltas } from './batch-deltas.js';
import type { SqliteCompletions } from './sqlite-completions.js';
import type { SqliteDatabase } from './sqlite-database.js';
import { paramsBytes, paramsText } from './sqlite-params.js';
import type { Statements } from './sqlite-statements.js';
import type { SqliteUpkeep } from './sqlite-upkeep.js';

/** Requests routed to backend `?` and in no provider batch yet (the `provider_requests_routed` index's condition). */
const ROUTED = `p.submission_id IS NULL AND p.backend = ?`;

/** How many active batches one routing pass looks at, as a claim does. */
const ROUTE_FAN_OUT = 64;

const STATEMENTS = {
  route: `UPDATE requests SET lease_owner = NULL, lease_until = NULL WHERE key = ? AND state = 'running' AND lease_owner = ?`,
  routed: `INSERT OR REPLACE INTO provider_requests (key, backend, submission_id) VALUES (?, ?, NULL)`,
  routedCount: `SELECT count(*) FROM provider_requests p WHERE ${ROUTED}`,
  routedTotals: `SELECT count(*) AS count, coalesce(sum(${paramsBytes('rp')} + ${LINE_OVERHEAD_BYTES}), 0) AS bytes
    FROM provider_requests p JOIN request_params rp ON rp.key = p.key WHERE ${ROUTED}`,
  // Every routed request, when all of them are within the limits.
  submitAll: `UPDATE provider_requests SET submission_id = @id WHERE submission_id IS NULL AND backend = @backend`,
  // Active batches with runnable requests that a provider batch carries: Messages, or OpenAI chat completions (`@endpoint`).
  routable: `SELECT seq FROM batches WHERE status IN ('in_progress', 'canceling') AND status = 'in_progress' AND expires_at > @now
    AND (endpoint IS NULL OR endpoint = @endpoint) AND EXISTS (SELECT 1 FROM requests q WHERE q.batch_seq = seq AND q.state = 'queued' AND q.run_at <= @now)
    ORDER BY claim_turn LIMIT ${ROUTE_FAN_OUT}`,
  // A batch's next runnable requests leave the queue unleased, as a claim would take them.
  routeQueued: `UPDATE requests SET state = 'running', lease_owner = NULL, lease_until = NULL, attempts = attempts + 1
    WHERE key IN (SELECT key FROM requests WHERE batch_seq = ? AND state = 'queued' AND run_at <= ? ORDER BY run_at, prefix_key, key LIMIT ?)
    RETURNING key`,
  routedKeys: `INSERT OR REPLACE INTO provider_requests (key, backend, submission_id) SELECT value, ?, NULL FROM json_each(?)`,
  // Routed requests whose batch may no longer send them go back to the queue, where settling ends them: only an active
  // batch holds running requests, so those of the few being canceled or past expiry are looked at, not every routed row.
  unwantedBatches: `SELECT seq FROM batches WHERE status IN ('in_progress', 'canceling') AND (status = 'canceling' OR expires_at <= ?)`,
  unwanted: `SELECT p.key FROM requests r JOIN provider_requests p ON p.key = r.key WHERE r.batch_seq = ? AND r.state = 'running' AND ${ROUTED}`,
  requeue: `UPDATE requests SET state = 'queued' WHERE key = ? AND state = 'running'`,
  forget: `DELETE FROM provider_requests WHERE key = ?`,
  // Round-robin across batches (each batch's first request, then each one's second, and so on), the leading ones whose
  // params, with the line around each, stay within `@maxBytes` (at least one) go into submission `@id`.
  submit: `UPDATE provider_requests SET submission_id = @id WHERE key IN (SELECT key FROM (
      SELECT key, sum(bytes) OVER (ORDER BY place, batch_seq ROWS UNBOUNDED PRECEDING) AS total, row_number() OVER (ORDER BY place, batch_seq) AS n FROM (
        SELECT p.key, r.batch_seq, ${paramsBytes('rp')} + ${LINE_OVERHEAD_BYTES} AS bytes, row_number() OVER (PARTITION BY r.batch_seq ORDER BY p.key) AS place
        FROM provider_requests p JOIN requests r ON r.key = p.key JOIN request_params rp ON rp.key = p.key WHERE p.submission_id IS NULL AND p.backend = @backend)
      ORDER BY place, batch_seq LIMIT @maxRequests)
    WHERE total <= @maxBytes OR n = 1)`,
  insert: `INSERT INTO provider_submissions (backend, tag, request_count, created_at, state, processing, lease_owner, lease_until)
    VALUES (?, '', 0, ?, 'submitting', 0, ?, ?) RETURNING id`,
  counted: `UPDATE provider_submissions SET tag = ?, request_count = ?, processing = ? WHERE id = ? RETURNING ${SUBMISSION_COLUMNS}`,
  link: `INSERT OR IGNORE INTO provider_submission_batches (submission_id, batch_seq)
    SELECT DISTINCT ?, r.batch_seq FROM provider_requests p JOIN requests r ON r.key = p.key WHERE p.submission_id = ?`,
  requests: `SELECT p.key, ${paramsText('rp')} AS params, b.dialect FROM provider_requests p JOIN request_params rp ON rp.key = p.key
    JOIN requests r ON r.key = p.key JOIN batches b ON b.seq = r.batch_seq
    WHERE p.submission_id = @id AND p.key > @afterKey AND r.state = 'running' AND b.dialect IS NOT @except ORDER BY p.key LIMIT @limit`,
  // As \`requests\` for one dialect, each line written in SQL (see framedRequests).
  framed: `SELECT group_concat(@before || key || @middle || params || @closing, @separator) AS text, count(*) AS count, max(key) AS lastKey FROM (
    SELECT p.key, ${paramsText('rp')} AS params FROM provider_requests p JOIN request_params rp ON rp.key = p.key
    JOIN requests r ON r.key = p.key JOIN batches b ON b.seq = r.batch_seq
    WHERE p.submission_id = @id AND p.key > @afterKey AND r.state = 'running' AND b.dialect = @dialect ORDER BY p.key LIMIT @limit)`,
  take: `UPDATE provider_submissions SET lease_owner = ?, lease_until = ?
    WHERE backend = ? AND state <> 'closed' AND (lease_owner IS NULL OR lease_owner = ? OR lease_until < ?) RETURNING ${SUBMISSION_COLUMNS}`,
  record: `UPDATE provider_submissions SET provider_batch_id = COALESCE(?, provider_batch_id), state = COALESCE(?, state),
    processing = COALESCE(?, processing), succeeded = COALESCE(?, succeeded), errored = COALESCE(?, errored),
    canceled = COALESCE(?, canceled), expired = COALESCE(?, expired), polled_at = COALESCE(?, polled_at), failure = COALESCE(?, failure)
    WHERE id = ? AND lease_owner = ?`,
  // Stops at the first request found: asked every turn of a running provider batch, whose requests are seldom all canceling.
  othersWaiting: `SELECT EXISTS (SELECT 1 FROM provider_requests p JOIN requests r ON r.key = p.key JOIN batches b ON b.seq = r.batch_seq
    WHERE p.submission_id = ? AND r.state = 'running' AND b.status <> 'canceling')`,
  // A provider's canceled line ends a request only when its batch is being canceled; else it is sent again.
  // The results of `provider_results_in`, numbered after `?` in its order, for requests still waiting in submission `?`.
  complete: `UPDATE requests SET state = 'done', result_type = i.type, result = i.result, completion_seq = ? + i.n FROM provider_results_in AS i
    WHERE requests.key = i.key AND requests.state = 'running'
      AND EXISTS (SELECT 1 FROM provider_requests p WHERE p.key = requests.key AND p.submission_id = ?)
      AND (i.type <> 'canceled' OR requests.batch_seq IN (SELECT seq FROM batches WHERE status = 'canceling')) RETURNING requests.key, requests.batch_seq`,
  resultIn: `INSERT INTO provider_results_in (n, key, type, result) VALUES (?, ?, ?, ?)`,
  resultsRead: `DELETE FROM provider_results_in`,
  // Closing forgets the requests that ended, then routes again those still waiting.
  forgetEnded: `DELETE FROM provider_requests WHERE submission_id = ?
    AND NOT EXISTS (SELECT 1 FROM requests r WHERE r.key = provider_requests.key AND r.state = 'running')`,
  close: `UPDATE provider_requests SET submission_id = NULL WHERE submission_id = ?`,
  markClosed: `UPDATE provider_submissions SET state = 'closed', lease_owner = NULL, lease_until = NULL WHERE id = ? AND lease_owner = ?`,
  ofBatch: `SELECT ${SUBMISSION_COLUMNS} FROM provider_submissions WHERE id IN (
    SELECT l.submission_id FROM provider_submission_batches l JOIN batches b ON b.seq = l.batch_seq WHERE b.id = ?) ORDER BY id LIMIT ${MAX_LISTED}`,
  release: `UPDATE provider_submissions SET lease_owner = NULL, lease_until = NULL WHERE lease_owner IS NOT NULL`,
};

/**
 * Provider batches on SQLite (see `provider-batch-store.ts`); each method one write transaction. A
 * request routed to a provider-batch backend has a `provider_requests` row until its submission
 * closes: rows of requests that ended are deleted then, off the path from the provider's results to
 * the batch's end.
 */
export class SqliteProviderBatches implements ProviderBatchStore {
  private readonly sql: Record<keyof typeof STATEMENTS, Statement>;

  constructor(
    private readonly db: SqliteDatabase,
    private readonly parts: { sql: Statements; completions: SqliteCompletions; upkeep: SqliteUpkeep; completionSignal: CompletionSignal },
  ) {
    // A group of results is written into this connection's own table, then ended in one statement.
    db.exec(`CREATE TEMP TABLE IF NOT EXISTS provider_results_in (n INTEGER PRIMARY KEY, key INTEGER NOT NULL, type TEXT NOT NULL, result TEXT)`);
    this.sql = Object.fromEntries(Object.entries(STATEMENTS).map(([name, text]) => [name, db.prepare(text)])) as SqliteProviderBatches['sql'];
  }

  /** Frees the submissions a stopped process held: called when a process takes the file over. */
  releaseAll(): void {
    this.sql.release.run();
  }

  async routeToProvider(owner: string, routes: Array<{ key: number; backend: string }>): Promise<void> {
    this.db.transaction(() => {
      for (const route of routes) if (this.sql.route.run(route.key, owner).changes > 0) this.sql.routed.run(route.key, route.backend);
    })();
  }

  async routeQueued(backend: string, endpoint: string, limit: number, now: number): Promise<number> {
    return this.db.transaction(() => {
      const batches = this.sql.routable.pluck().all({ now, endpoint }) as number[];
      let routed = 0;
      for (let i = 0; i < batches.length && routed < limit; i++) {
        const share = Math.ceil((limit - routed) / (batches.length - i));
        const keys = this.sql.routeQueued.pluck().all(batches[i], now, share) as number[];
        if (keys.length > 0) this.sql.routedKeys.run(backend, JSON.stringify(keys));
        routed += keys.length;
      }
      return routed;
    })();
  }

  async routedCount(backend: string): Promise<number> {
    return this.sql.routedCount.pluck().get(backend) as number;
  }

  async openSubmission(backend: string, owner: string, leaseUntil: number, limits: SubmissionLimits, now: number): Promise<SubmissionRecord | null> {
    const opened = this.db.transaction((): SubmissionRecord | null => {
      const unwanted: number[] = [];
      for (const seq of this.sql.unwantedBatches.pluck().all(now) as number[]) {
        const keys = this.sql.unwanted.pluck().all(seq, backend) as number[];
        for (const key of keys) {
          this.sql.requeue.run(key);
          this.sql.forget.run(key);
        }
        if (keys.length > 0) unwanted.push(seq);
      }
      this.parts.upkeep.settleAll(unwanted, now);
      const routed = this.sql.routedTotals.get(backend) as { count: number; bytes: number };
      if (routed.count === 0) return null;
      const id = this.sql.insert.pluck().get(backend, now, owner, leaseUntil) as number;
      const all = routed.count <= limits.maxRequests && routed.bytes <= limits.maxBytes;
      const count = all ? this.sql.submitAll.run({ id, backend }).changes : this.sql.submit.run({ id, backend, maxRequests: limits.maxRequests, maxBytes: limits.maxBytes }).changes;
      this.sql.link.run(id, id);
      return toSubmissionRecord(this.sql.counted.get(submissionTag(id, now), count, count, id) as SubmissionRow);
    })();
    return opened;
  }

  async submissionRequests(id: number, afterKey: number, limit: number, except?: Dialect): Promise<SubmissionRequest[]> {
    // Rows as arrays: a page of thousands is read a third faster than as objects.
    const rows = this.sql.requests.raw().all({ id, afterKey, limit, except: except ?? null }) as Array<[number, string, Dialect]>;
    return rows.map(([key, params, dialect]) => ({ key, params, dialect }));
  }

  /** Lines written by SQLite: 100,000 of them in about half the time of a string for each request's params, framed in JS (bench/README finding 32). */
  async framedRequests(id: number, afterKey: number, limit: number, frame: StoreLineFrame): Promise<{ text: string; count: number; lastKey: number } | null> {
    const { before, middle, after, separator, dialect } = frame;
    const page = this.sql.framed.get({ id, afterKey, limit, before, middle, closing: after, separator, dialect }) as { text: string | null; count: number; lastKey: number };
    return page.count === 0 ? null : { text: page.text!, count: page.count, lastKey: page.lastKey };
  }

  async takeSubmissions(backend: string, owner: string, leaseUntil: number, now: number): Promise<SubmissionRecord[]> {
    return (this.sql.take.all(owner, leaseUntil, backend, owner, now) as SubmissionRow[]).map(toSubmissionRecord).sort((a, b) => a.id - b.id);
  }

  async recordSubmission(id: number, owner: string, update: Parameters<ProviderBatchStore['recordSubmission']>[2]): Promise<void> {
    const c = update.counts;
    this.sql.record.run(update.providerBatchId ?? null, update.state ?? null, c?.processing ?? null, c?.succeeded ?? null, c?.errored ?? null,
      c?.canceled ?? null, c?.expired ?? null, update.polledAt ?? null, update.failure ?? null, id, owner);
  }

  async onlyCanceling(id: number): Promise<boolean> {
    return (this.sql.othersWaiting.pluck().get(id) as number) === 0;
  }

  async completeSubmitted(id: number, completions: ProviderCompletion[], now: number): Promise<void> {
    if (completions.length === 0) return;
    // A key given twice is written once, as first given.
    const byKey = new Map<number, ProviderCompletion>();
    for (const completion of completions) if (!byKey.has(completion.key)) byKey.set(completion.key, completion);
    this.db.transaction(() => {
      const first = this.parts.completions.reserve(byKey.size);
      let n = 0;
      for (const { key, type, result } of byKey.values()) this.sql.resultIn.run(++n, key, type, result);
      const ended = this.sql.complete.raw().all(first, id) as Array<[number, number]>;
      this.sql.resultsRead.run();
      if (ended.length === 0) return;
      const deltas = new BatchDeltas();
      const settled = new Map<number, [number, number, number]>();
      for (const [key, seq] of ended) {
        const completion = byKey.get(key)!;
        const { type } = completion;
        if (type === 'succeeded' || type === 'errored') deltas.add(seq, completion);
        else {
          const counts = settled.get(seq) ?? [0, 0, 0];
          settled.set(seq, [counts[0] + 1, counts[1] + Number(type === 'canceled'), counts[2] + Number(type === 'expired')]);
        }
      }
      for (const [seq, delta] of deltas.entries()) this.parts.sql.applyDelta.run(...delta, seq);
      for (const [seq, counts] of settled) this.parts.sql.countSettled.run(...counts, seq);
      for (const seq of new Set(ended.map(([, seq]) => seq))) this.parts.sql.endIfDone.run(now, seq);
    })();
    this.parts.completionSignal.notify();
  }

  async closeSubmission(id: number, owner: string): Promise<number> {
    return this.db.transaction(() => {
      if (this.sql.markClosed.run(id, owner).changes === 0) return 0;
      this.sql.forgetEnded.run(id);
      return this.sql.close.run(id).changes;
    })();
  }

  async batchSubmissions(batchId: string): Promise<SubmissionRecord[]> {
    return (this.sql.ofBatch.all(batchId) as SubmissionRow[]).map(toSubmissionRecord);
  }
}
