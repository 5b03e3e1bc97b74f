import type { MessageBatch } from './wire-types.js';

/** A registered receiver of batchd's signed events (`/v1/batchd/webhooks`). */
export interface WebhookEndpoint {
  /** `whep_…` */
  id: string;
  type: 'webhook_endpoint';
  url: string;
  description: string | null;
  /** `whsec_…`: the key `verifyWebhook` checks signatures with. */
  secret: string;
  created_at: string;
  /** Attempts that failed in a row; a delivered one resets it. */
  consecutive_failures: number;
  /** Set while the endpoint is paused after failing five times in a row: nothing is sent to it before then. */
  paused_until: string | null;
  /** Set once its receiver answered `410 Gone`: nothing is sent to it any more; register the URL again. */
  disabled_at: string | null;
}

export interface WebhookEndpointCreateParams {
  /** The http or https URL events are POSTed to. */
  url: string;
  description?: string | null;
}

export interface DeletedWebhookEndpoint {
  id: string;
  type: 'webhook_endpoint_deleted';
}

export type WebhookDeliveryStatus = 'pending' | 'delivered' | 'failed';

/** One attempt at sending a delivery. */
export interface WebhookDeliveryAttempt {
  attempt: number;
  attempted_at: string;
  /** The receiver's HTTP status; null when it did not answer. */
  status_code: number | null;
  error: string | null;
}

/** One event sent (or being sent) to one endpoint. */
export interface WebhookDelivery {
  /** `evt_…`, the `webhook-id` header of every attempt. */
  id: string;
  type: 'webhook_delivery';
  endpoint_id: string;
  event_type: string;
  batch_id: string;
  status: WebhookDeliveryStatus;
  attempts: number;
  /** When the next attempt is due; null once delivered or failed. */
  next_attempt_at: string | null;
  last_status_code: number | null;
  last_error: string | null;
  created_at: string;
  delivered_at: string | null;
  attempt_log: WebhookDeliveryAttempt[];
}

export interface WebhookDeliveryListParams {
  /** Deliveries per page, 1 to 100 (default 20). */
  limit?: number;
  /** The page of deliveries older than this one. */
  after_id?: string;
}

/** The body of every event batchd sends: `batch.ended` carries the batch as the API returns it. */
export interface WebhookEvent {
  type: string;
  /** When the event happened (RFC 3339). */
  timestamp: string;
  data: MessageBatch;
}
