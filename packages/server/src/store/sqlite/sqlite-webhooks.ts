import { newWebhookEventId } from '../../ids.js';
import { BATCH_COLUMNS, toBatchRecord, type BatchRow } from '../batch-row.js';
import type { BatchRecord } from '../store.js';
import { pickFairly, type ClaimCandidate, type LeasedCount } from '../fair-claim.js';
import { DELIVERY_COLUMNS, DISABLED_ERROR, ENDPOINT_COLUMNS, endpointValues, stateAfter, toDeliveryRecords, toEndpointRecord } from '../webhook-rows.js';
import type { AttemptRow, DeliveryRow, EndpointRow } from '../webhook-rows.js';
import type * as webhooks from '../webhook-store.js';
import type { SqliteDatabase } from './sqlite-database.js';

const IN_WORKSPACE = 'endpoint_id IN (SELECT id FROM webhook_endpoints WHERE workspace_id = ? AND id = ?)';

/** Webhook endpoints and deliveries in the SQLite file of a {@link SqliteStore}. */
export class SqliteWebhookStore implements webhooks.WebhookStore {
  constructor(private readonly db: SqliteDatabase) {}

  async createEndpoint(endpoint: webhooks.WebhookEndpointRecord, maxPerWorkspace = Infinity): Promise<boolean> {
    return this.db.transaction(() => {
      const count = this.db.prepare('SELECT count(*) FROM webhook_endpoints WHERE workspace_id = ?').pluck().get(endpoint.workspaceId) as number;
      if (count >= maxPerWorkspace) return false;
      this.db.prepare(`INSERT INTO webhook_endpoints (${ENDPOINT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`).run(...endpointValues(endpoint));
      return true;
    }).immediate();
  }

  async listEndpoints(workspaceId: string): Promise<webhooks.WebhookEndpointRecord[]> {
    const rows = this.db
      .prepare(`SELECT ${ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE workspace_id = ? ORDER BY created_at, id`)
      .all(workspaceId) as EndpointRow[];
    return rows.map(toEndpointRecord);
  }

  async getEndpoint(workspaceId: string, id: string): Promise<webhooks.WebhookEndpointRecord | null> {
    const row = this.db.prepare(`SELECT ${ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE workspace_id = ? AND id = ?`).get(workspaceId, id) as
      | EndpointRow
      | undefined;
    return row ? toEndpointRecord(row) : null;
  }

  async deleteEndpoint(workspaceId: string, id: string): Promise<boolean> {
    return this.db.transaction(() => {
      const { changes } = this.db.prepare('DELETE FROM webhook_endpoints WHERE workspace_id = ? AND id = ?').run(workspaceId, id);
      if (changes === 0) return false;
      this.db.prepare('DELETE FROM webhook_attempts WHERE delivery_seq IN (SELECT seq FROM webhook_deliveries WHERE endpoint_id = ?)').run(id);
      this.db.prepare('DELETE FROM webhook_deliveries WHERE endpoint_id = ?').run(id);
      return true;
    })();
  }

  async announceEndedBatches(now: number, limit: number, eventsFor: (batch: BatchRecord) => webhooks.NewEvent[]): Promise<number> {
    return this.db.transaction(() => {
      const batches = this.db
        .prepare(`SELECT ${BATCH_COLUMNS} FROM batches WHERE announced = 0 AND status IN ('ended', 'deleted') ORDER BY seq LIMIT ?`)
        .all(limit) as BatchRow[];
      const endpointsOf = this.db.prepare('SELECT id FROM webhook_endpoints WHERE workspace_id = ? AND disabled_at IS NULL').pluck();
      const insert = this.db.prepare(`INSERT INTO webhook_deliveries (id, endpoint_id, batch_id, event_type, payload, state, next_attempt_at, created_at)
        VALUES (?, ?, ?, ?, ?, 'pending', ?, ?)`);
      const markAnnounced = this.db.prepare('UPDATE batches SET announced = 1 WHERE seq = ?');
      for (const row of batches) {
        const endpoints = endpointsOf.all(row.workspace_id) as string[];
        if (endpoints.length > 0) {
          for (const event of eventsFor(toBatchRecord(row))) {
            for (const endpoint of endpoints) insert.run(newWebhookEventId(), endpoint, row.id, event.type, event.payload, now, now);
          }
        }
        markAnnounced.run(row.seq);
      }
      return batches.length;
    })();
  }

  async claimDeliveries(owner: string, limits: webhooks.ClaimLimits, leaseUntil: number, now: number): Promise<webhooks.ClaimedDelivery[]> {
    return this.db.transaction(() => {
      const candidates = this.db
        .prepare(`SELECT d.seq, d.endpoint_id, e.workspace_id, d.next_attempt_at FROM webhook_endpoints e
          JOIN webhook_deliveries d ON d.seq IN (SELECT seq FROM webhook_deliveries WHERE endpoint_id = e.id AND state = 'pending' AND next_attempt_at <= ?
            ORDER BY next_attempt_at, seq LIMIT ?)
          WHERE e.disabled_at IS NULL AND (e.paused_until IS NULL OR e.paused_until <= ?)
          ORDER BY d.endpoint_id, d.next_attempt_at, d.seq`)
        .all(now, limits.perEndpoint, now) as ClaimCandidate[];
      if (candidates.length === 0) return [];
      const leased = this.db
        .prepare(`SELECT d.endpoint_id, e.workspace_id, count(*) AS leased FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id
          WHERE d.lease_owner IS NOT NULL AND d.state = 'pending' AND d.next_attempt_at > ? GROUP BY d.endpoint_id, e.workspace_id`)
        .all(now) as LeasedCount[];
      const picked = pickFairly(candidates, leased, limits);
      const rows = this.db
        .prepare(`UPDATE webhook_deliveries SET attempts = attempts + 1, lease_owner = ?, next_attempt_at = ?
          WHERE seq IN (SELECT value FROM json_each(?)) RETURNING seq, id, endpoint_id, payload, attempts`)
        .all(owner, leaseUntil, JSON.stringify(picked)) as Array<{ seq: number; id: string; endpoint_id: string; payload: string; attempts: number }>;
      // Deleting an endpoint deletes its deliveries in the same transaction, so every claimed one has its endpoint.
      const endpoint = this.db.prepare('SELECT url, secret FROM webhook_endpoints WHERE id = ?');
      const order = new Map(picked.map((seq, index) => [seq, index]));
      return rows
        .sort((a, b) => order.get(a.seq)! - order.get(b.seq)!)
        .map((row) => {
          const { url, secret } = endpoint.get(row.endpoint_id) as { url: string; secret: string };
          return { id: row.id, endpointId: row.endpoint_id, url, secret, payload: row.payload, attempt: row.attempts };
        });
    })();
  }

  async recordAttempt(owner: string, id: string, attempt: number, result: webhooks.AttemptResult, now: number): Promise<boolean> {
    return this.db.transaction(() => {
      const state = stateAfter(result);
      const row = this.db
        .prepare(`UPDATE webhook_deliveries SET state = ?, next_attempt_at = ?, lease_owner = NULL, last_status = ?, last_error = ?,
            delivered_at = CASE WHEN ? = 'delivered' THEN ? ELSE delivered_at END
          WHERE id = ? AND lease_owner = ? AND attempts = ? AND state = 'pending' RETURNING seq, endpoint_id`)
        .get(state, state === 'pending' ? result.retryAt : null, result.status, result.error, state, now, id, owner, attempt) as
        | { seq: number; endpoint_id: string }
        | undefined;
      if (!row) return false;
      const { pause } = result;
      this.db
        .prepare('INSERT INTO webhook_attempts (delivery_seq, attempt, attempted_at, status, error) VALUES (?, ?, ?, ?, ?)')
        .run(row.seq, attempt, now, result.status, result.error);
      this.db
        .prepare(`UPDATE webhook_endpoints SET
            consecutive_failures = CASE WHEN ? THEN 0 ELSE consecutive_failures + 1 END,
            paused_until = CASE WHEN ? THEN NULL WHEN consecutive_failures + 1 >= ?
              THEN ? + min(? << min(consecutive_failures + 1 - ?, 30), ?) ELSE paused_until END,
            disabled_at = CASE WHEN ? THEN ? ELSE disabled_at END
          WHERE id = ?`)
        .run(
          Number(result.delivered),
          Number(result.delivered),
          pause.afterFailures,
          now,
          pause.firstMs,
          pause.afterFailures,
          pause.longestMs,
          Number(result.disable),
          now,
          row.endpoint_id,
        );
      if (result.disable) {
        this.db
          .prepare(`UPDATE webhook_deliveries SET state = 'failed', next_attempt_at = NULL, lease_owner = NULL, last_error = ?
            WHERE endpoint_id = ? AND state = 'pending'`)
          .run(DISABLED_ERROR, row.endpoint_id);
      }
      return true;
    })();
  }

  async listDeliveries(workspaceId: string, endpointId: string, page: { limit: number; afterId?: string }): Promise<webhooks.DeliveryPage> {
    // A cursor this endpoint's log does not hold (purged since, or never its own) ends the paging, rather than starting it over.
    const after = page.afterId === undefined ? null : this.db.prepare(`SELECT seq FROM webhook_deliveries WHERE ${IN_WORKSPACE} AND id = ?`).pluck().get(workspaceId, endpointId, page.afterId);
    if (after === undefined) return { deliveries: [], hasMore: false };
    const rows = this.db
      .prepare(`SELECT ${DELIVERY_COLUMNS} FROM webhook_deliveries WHERE ${IN_WORKSPACE} AND seq < ? ORDER BY seq DESC LIMIT ?`)
      .all(workspaceId, endpointId, after ?? Number.MAX_SAFE_INTEGER, page.limit + 1) as DeliveryRow[];
    const kept = rows.slice(0, page.limit);
    return { deliveries: this.withAttempts(kept), hasMore: rows.length > page.limit };
  }

  async retryDelivery(workspaceId: string, endpointId: string, id: string, now: number): Promise<webhooks.WebhookDeliveryRecord | null> {
    this.db
      .prepare(`UPDATE webhook_deliveries SET state = 'pending', next_attempt_at = ?, lease_owner = NULL
        WHERE ${IN_WORKSPACE} AND id = ? AND state <> 'pending'`)
      .run(now, workspaceId, endpointId, id);
    const row = this.db.prepare(`SELECT ${DELIVERY_COLUMNS} FROM webhook_deliveries WHERE ${IN_WORKSPACE} AND id = ?`).get(workspaceId, endpointId, id) as
      | DeliveryRow
      | undefined;
    return row ? this.withAttempts([row])[0]! : null;
  }

  async purgeDeliveries(before: number, limit: number): Promise<number> {
    return this.db.transaction(() => {
      const seqs = this.db
        .prepare(`SELECT seq FROM webhook_deliveries WHERE state <> 'pending' AND created_at < ? LIMIT ?`)
        .pluck()
        .all(before, limit) as number[];
      const attempts = this.db.prepare('DELETE FROM webhook_attempts WHERE delivery_seq = ?');
      const delivery = this.db.prepare('DELETE FROM webhook_deliveries WHERE seq = ?');
      for (const seq of seqs) {
        attempts.run(seq);
        delivery.run(seq);
      }
      return seqs.length;
    })();
  }

  private withAttempts(rows: DeliveryRow[]): webhooks.WebhookDeliveryRecord[] {
    if (rows.length === 0) return [];
    const attempts = this.db
      .prepare(`SELECT delivery_seq, attempt, attempted_at, status, error FROM webhook_attempts
        WHERE delivery_seq IN (SELECT value FROM json_each(?))`)
      .all(JSON.stringify(rows.map((row) => row.seq))) as AttemptRow[];
    return toDeliveryRecords(rows, attempts);
  }
}
