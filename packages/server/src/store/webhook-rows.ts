import type { DeliveryAttempt, DeliveryState, WebhookDeliveryRecord, WebhookEndpointRecord } from './webhook-store.js';

/** The `webhook_endpoints` columns both stores select, in the shape {@link toEndpointRecord} reads. */
export const ENDPOINT_COLUMNS = 'id, workspace_id, url, secret, description, created_at, consecutive_failures, paused_until, disabled_at';

export interface EndpointRow {
  id: string;
  workspace_id: string;
  url: string;
  secret: string;
  description: string | null;
  created_at: number;
  consecutive_failures: number;
  paused_until: number | null;
  disabled_at: number | null;
}

export function toEndpointRecord(row: EndpointRow): WebhookEndpointRecord {
  return {
    id: row.id,
    workspaceId: row.workspace_id,
    url: row.url,
    secret: row.secret,
    description: row.description,
    createdAt: row.created_at,
    consecutiveFailures: row.consecutive_failures,
    pausedUntil: row.paused_until,
    disabledAt: row.disabled_at,
  };
}

/** An endpoint's values in the order of {@link ENDPOINT_COLUMNS}, for an insert. */
export function endpointValues(endpoint: WebhookEndpointRecord): (string | number | null)[] {
  const { id, workspaceId, url, secret, description, createdAt, consecutiveFailures, pausedUntil, disabledAt } = endpoint;
  return [id, workspaceId, url, secret, description, createdAt, consecutiveFailures, pausedUntil, disabledAt];
}

/** The `webhook_deliveries` columns both stores select, in the shape {@link toDeliveryRecord} reads. */
export const DELIVERY_COLUMNS = `seq, id, endpoint_id, batch_id, event_type, payload, state, attempts, next_attempt_at,
  last_status, last_error, created_at, delivered_at`;

export interface DeliveryRow {
  seq: number;
  id: string;
  endpoint_id: string;
  batch_id: string;
  event_type: string;
  payload: string;
  state: DeliveryState;
  attempts: number;
  next_attempt_at: number | null;
  last_status: number | null;
  last_error: string | null;
  created_at: number;
  delivered_at: number | null;
}

export interface AttemptRow {
  delivery_seq: number;
  attempt: number;
  attempted_at: number;
  status: number | null;
  error: string | null;
}

/** Deliveries with their attempts attached (`attempts` holds the attempt rows of any of them). */
export function toDeliveryRecords(rows: DeliveryRow[], attempts: AttemptRow[]): WebhookDeliveryRecord[] {
  const bySeq = new Map<number, DeliveryAttempt[]>();
  for (const row of attempts) {
    let log = bySeq.get(row.delivery_seq);
    if (!log) bySeq.set(row.delivery_seq, (log = []));
    log.push({ attempt: row.attempt, attemptedAt: row.attempted_at, status: row.status, error: row.error });
  }
  return rows.map((row) => ({
    id: row.id,
    endpointId: row.endpoint_id,
    batchId: row.batch_id,
    eventType: row.event_type,
    payload: row.payload,
    state: row.state,
    attempts: row.attempts,
    nextAttemptAt: row.state === 'pending' ? row.next_attempt_at : null,
    lastStatus: row.last_status,
    lastError: row.last_error,
    createdAt: row.created_at,
    deliveredAt: row.delivered_at,
    attemptLog: (bySeq.get(row.seq) ?? []).sort((a, b) => a.attempt - b.attempt),
  }));
}

/** The state an attempt leaves a delivery in. */
export function stateAfter(result: { delivered: boolean; retryAt: number | null; disable: boolean }): DeliveryState {
  return result.delivered ? 'delivered' : result.retryAt === null || result.disable ? 'failed' : 'pending';
}

/** The error left on the pending deliveries of an endpoint disabled by a `410 Gone`. */
export const DISABLED_ERROR = 'the endpoint was disabled: its receiver answered HTTP 410 Gone';
