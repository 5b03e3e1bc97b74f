import type pg from 'pg';
import { newWebhookEventId } from '../../ids.js';
import { BATCH_COLUMNS, toBatchRecord, type BatchRow } from '../batch-row.js';
import type { BatchRecord } from '../store.js';
import { pickFairly, type ClaimCandidate, type LeasedCount } from '../fair-claim.js';
import { DELIVERY_COLUMNS, DISABLED_ERROR, ENDPOINT_COLUMNS, endpointValues, stateAfter, toDeliveryRecords, toEndpointRecord } from '../webhook-rows.js';
import type { AttemptRow, DeliveryRow, EndpointRow } from '../webhook-rows.js';
import type * as webhooks from '../webhook-store.js';
import { inTransaction } from './transaction.js';

const IN_WORKSPACE = 'endpoint_id IN (SELECT id FROM batchd.webhook_endpoints WHERE workspace_id = $1 AND id = $2)';

/**
 * Webhook endpoints and deliveries on the PostgreSQL database of a {@link PostgresStore}. The
 * outbox scan and the claims lock rows with `FOR UPDATE SKIP LOCKED`, so any number of workers
 * may run them at once without announcing a batch twice or sending one delivery twice at once.
 */
export class PostgresWebhookStore implements webhooks.WebhookStore {
  constructor(private readonly pool: pg.Pool) {}

  private transaction<T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    return inTransaction(this.pool, work);
  }

  async createEndpoint(endpoint: webhooks.WebhookEndpointRecord, maxPerWorkspace = Infinity): Promise<boolean> {
    return this.transaction(async (client) => {
      // The workspace's creates take turns, on every node, so two cannot both find room for one more.
      await client.query(`SELECT pg_advisory_xact_lock(hashtext('batchd.webhook_endpoints'), hashtext($1))`, [endpoint.workspaceId]);
      const { rows } = await client.query<{ count: number }>('SELECT count(*)::int AS count FROM batchd.webhook_endpoints WHERE workspace_id = $1', [endpoint.workspaceId]);
      if (rows[0]!.count >= maxPerWorkspace) return false;
      await client.query(`INSERT INTO batchd.webhook_endpoints (${ENDPOINT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`, endpointValues(endpoint));
      return true;
    });
  }

  async listEndpoints(workspaceId: string): Promise<webhooks.WebhookEndpointRecord[]> {
    const { rows } = await this.pool.query<EndpointRow>(
      `SELECT ${ENDPOINT_COLUMNS} FROM batchd.webhook_endpoints WHERE workspace_id = $1 ORDER BY created_at, id`,
      [workspaceId],
    );
    return rows.map(toEndpointRecord);
  }

  async getEndpoint(workspaceId: string, id: string): Promise<webhooks.WebhookEndpointRecord | null> {
    const { rows } = await this.pool.query<EndpointRow>(`SELECT ${ENDPOINT_COLUMNS} FROM batchd.webhook_endpoints WHERE workspace_id = $1 AND id = $2`, [
      workspaceId,
      id,
    ]);
    return rows[0] ? toEndpointRecord(rows[0]) : null;
  }

  async deleteEndpoint(workspaceId: string, id: string): Promise<boolean> {
    return this.transaction(async (client) => {
      const { rowCount } = await client.query('DELETE FROM batchd.webhook_endpoints WHERE workspace_id = $1 AND id = $2', [workspaceId, id]);
      if (!rowCount) return false;
      await client.query(
        `WITH gone AS (DELETE FROM batchd.webhook_deliveries WHERE endpoint_id = $1 RETURNING seq)
         DELETE FROM batchd.webhook_attempts WHERE delivery_seq IN (SELECT seq FROM gone)`,
        [id],
      );
      return true;
    });
  }

  async announceEndedBatches(now: number, limit: number, eventsFor: (batch: BatchRecord) => webhooks.NewEvent[]): Promise<number> {
    return this.transaction(async (client) => {
      const { rows: batches } = await client.query<BatchRow>(
        `SELECT ${BATCH_COLUMNS} FROM batchd.batches WHERE NOT announced AND status IN ('ended', 'deleted')
         ORDER BY seq LIMIT $1 FOR UPDATE SKIP LOCKED`,
        [limit],
      );
      if (batches.length === 0) return 0;
      const { rows: endpoints } = await client.query<{ id: string; workspace_id: string }>(
        'SELECT id, workspace_id FROM batchd.webhook_endpoints WHERE workspace_id = ANY($1::text[]) AND disabled_at IS NULL',
        [[...new Set(batches.map((row) => row.workspace_id))]],
      );
      const columns = { id: [] as string[], endpoint: [] as string[], batch: [] as string[], type: [] as string[], payload: [] as string[] };
      for (const row of batches) {
        const targets = endpoints.filter((endpoint) => endpoint.workspace_id === row.workspace_id);
        if (targets.length === 0) continue;
        for (const event of eventsFor(toBatchRecord(row))) {
          for (const endpoint of targets) {
            columns.id.push(newWebhookEventId());
            columns.endpoint.push(endpoint.id);
            columns.batch.push(row.id);
            columns.type.push(event.type);
            columns.payload.push(event.payload);
          }
        }
      }
      if (columns.id.length > 0) {
        await client.query(
          `INSERT INTO batchd.webhook_deliveries (id, endpoint_id, batch_id, event_type, payload, state, next_attempt_at, created_at)
           SELECT id, endpoint_id, batch_id, event_type, payload, 'pending', $6, $6
           FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[]) AS e(id, endpoint_id, batch_id, event_type, payload)`,
          [columns.id, columns.endpoint, columns.batch, columns.type, columns.payload, now],
        );
      }
      await client.query('UPDATE batchd.batches SET announced = true WHERE seq = ANY($1::bigint[])', [batches.map((row) => row.seq)]);
      return batches.length;
    });
  }

  async claimDeliveries(owner: string, limits: webhooks.ClaimLimits, leaseUntil: number, now: number): Promise<webhooks.ClaimedDelivery[]> {
    const [{ rows: candidates }, { rows: leased }] = await Promise.all([
      this.pool.query<ClaimCandidate>({
        name: 'batchd-delivery-candidates',
        text: `SELECT d.seq, e.id AS endpoint_id, e.workspace_id, d.next_attempt_at
          FROM batchd.webhook_endpoints e CROSS JOIN LATERAL (
            SELECT seq, next_attempt_at FROM batchd.webhook_deliveries
            WHERE endpoint_id = e.id AND state = 'pending' AND next_attempt_at <= $1 ORDER BY next_attempt_at, seq LIMIT $2) d
          WHERE e.disabled_at IS NULL AND (e.paused_until IS NULL OR e.paused_until <= $1)
          ORDER BY e.id, d.next_attempt_at, d.seq`,
        values: [now, limits.perEndpoint],
      }),
      this.pool.query<LeasedCount>({
        name: 'batchd-leased-deliveries',
        text: `SELECT d.endpoint_id, e.workspace_id, count(*)::int AS leased
          FROM batchd.webhook_deliveries d JOIN batchd.webhook_endpoints e ON e.id = d.endpoint_id
          WHERE d.lease_owner IS NOT NULL AND d.state = 'pending' AND d.next_attempt_at > $1 GROUP BY d.endpoint_id, e.workspace_id`,
        values: [now],
      }),
    ]);
    if (candidates.length === 0) return [];
    const picked = pickFairly(candidates, leased, limits);
    // Rows another process claimed meanwhile are locked (skipped) or no longer due: the claim comes up short.
    const { rows } = await this.pool.query<{ seq: number; id: string; endpoint_id: string; url: string; secret: string; payload: string; attempts: number }>({
      name: 'batchd-claim-deliveries',
      text: `UPDATE batchd.webhook_deliveries d SET attempts = d.attempts + 1, lease_owner = $1, next_attempt_at = $2
        FROM batchd.webhook_endpoints e
        WHERE d.seq IN (SELECT seq FROM batchd.webhook_deliveries WHERE seq = ANY($4::bigint[]) AND state = 'pending' AND next_attempt_at <= $3
          FOR UPDATE SKIP LOCKED)
        AND e.id = d.endpoint_id
        RETURNING d.seq, d.id, d.endpoint_id, e.url, e.secret, d.payload, d.attempts`,
      values: [owner, leaseUntil, now, picked],
    });
    const order = new Map(picked.map((seq, index) => [seq, index]));
    return rows
      .sort((a, b) => order.get(a.seq)! - order.get(b.seq)!)
      .map((row) => ({
        id: row.id,
        endpointId: row.endpoint_id,
        url: row.url,
        secret: row.secret,
        payload: row.payload,
        attempt: row.attempts,
      }));
  }

  async recordAttempt(owner: string, id: string, attempt: number, result: webhooks.AttemptResult, now: number): Promise<boolean> {
    const state = stateAfter(result);
    const { rows } = await this.pool.query({
      name: 'batchd-record-attempt',
      text: `WITH done AS (
          UPDATE batchd.webhook_deliveries SET state = $4, next_attempt_at = $5, lease_owner = NULL, last_status = $6, last_error = $7,
            delivered_at = CASE WHEN $4 = 'delivered' THEN $8 ELSE delivered_at END
          WHERE id = $1 AND lease_owner = $2 AND attempts = $3 AND state = 'pending' RETURNING seq, endpoint_id),
        logged AS (INSERT INTO batchd.webhook_attempts (delivery_seq, attempt, attempted_at, status, error) SELECT seq, $3, $8, $6, $7 FROM done),
        health AS (
          UPDATE batchd.webhook_endpoints SET
            consecutive_failures = CASE WHEN $9 THEN 0 ELSE consecutive_failures + 1 END,
            paused_until = CASE WHEN $9 THEN NULL WHEN consecutive_failures + 1 >= $10
              THEN $8 + LEAST($13::bigint << LEAST(consecutive_failures + 1 - $10, 30), $14) ELSE paused_until END,
            disabled_at = CASE WHEN $11 THEN $8 ELSE disabled_at END
          WHERE id IN (SELECT endpoint_id FROM done)),
        gone AS (
          UPDATE batchd.webhook_deliveries SET state = 'failed', next_attempt_at = NULL, lease_owner = NULL, last_error = $12
          WHERE $11 AND endpoint_id IN (SELECT endpoint_id FROM done) AND state = 'pending' AND id <> $1)
        SELECT endpoint_id FROM done`,
      values: [
        id,
        owner,
        attempt,
        state,
        state === 'pending' ? result.retryAt : null,
        result.status,
        result.error,
        now,
        result.delivered,
        result.pause.afterFailures,
        result.disable,
        DISABLED_ERROR,
        result.pause.firstMs,
        result.pause.longestMs,
      ],
    });
    return rows.length > 0;
  }

  async listDeliveries(workspaceId: string, endpointId: string, page: { limit: number; afterId?: string }): Promise<webhooks.DeliveryPage> {
    const { rows } = await this.pool.query<DeliveryRow>(
      `SELECT ${DELIVERY_COLUMNS} FROM batchd.webhook_deliveries
       WHERE ${IN_WORKSPACE} AND seq < CASE WHEN $3::text IS NULL THEN 9223372036854775807
         -- A cursor this endpoint's log does not hold (purged since, or never its own) ends the paging: no row is below NULL.
         ELSE (SELECT seq FROM batchd.webhook_deliveries WHERE ${IN_WORKSPACE} AND id = $3) END
       ORDER BY seq DESC LIMIT $4`,
      [workspaceId, endpointId, page.afterId ?? null, page.limit + 1],
    );
    const kept = rows.slice(0, page.limit);
    return { deliveries: await this.withAttempts(kept), hasMore: rows.length > page.limit };
  }

  async retryDelivery(workspaceId: string, endpointId: string, id: string, now: number): Promise<webhooks.WebhookDeliveryRecord | null> {
    await this.pool.query(
      `UPDATE batchd.webhook_deliveries SET state = 'pending', next_attempt_at = $4, lease_owner = NULL
       WHERE ${IN_WORKSPACE} AND id = $3 AND state <> 'pending'`,
      [workspaceId, endpointId, id, now],
    );
    const { rows } = await this.pool.query<DeliveryRow>(`SELECT ${DELIVERY_COLUMNS} FROM batchd.webhook_deliveries WHERE ${IN_WORKSPACE} AND id = $3`, [
      workspaceId,
      endpointId,
      id,
    ]);
    return rows[0] ? (await this.withAttempts(rows))[0]! : null;
  }

  async purgeDeliveries(before: number, limit: number): Promise<number> {
    const { rows } = await this.pool.query<{ purged: number }>(
      `WITH gone AS (
         DELETE FROM batchd.webhook_deliveries WHERE seq IN (
           SELECT seq FROM batchd.webhook_deliveries WHERE state <> 'pending' AND created_at < $1 LIMIT $2 FOR UPDATE SKIP LOCKED)
         RETURNING seq),
       attempts AS (DELETE FROM batchd.webhook_attempts WHERE delivery_seq IN (SELECT seq FROM gone))
       SELECT count(*)::int AS purged FROM gone`,
      [before, limit],
    );
    return rows[0]!.purged;
  }

  private async withAttempts(rows: DeliveryRow[]): Promise<webhooks.WebhookDeliveryRecord[]> {
    if (rows.length === 0) return [];
    const { rows: attempts } = await this.pool.query<AttemptRow>(
      'SELECT delivery_seq, attempt, attempted_at, status, error FROM batchd.webhook_attempts WHERE delivery_seq = ANY($1::bigint[])',
      [rows.map((row) => row.seq)],
    );
    return toDeliveryRecords(rows, attempts);
  }
}
