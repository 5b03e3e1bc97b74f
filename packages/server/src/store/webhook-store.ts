import type { BatchRecord } from './store.js';

/** An endpoint a workspace registered to receive signed events; times are milliseconds since the epoch. */
export interface WebhookEndpointRecord {
  /** `whep_…` */
  id: string;
  workspaceId: string;
  url: string;
  /** `whsec_` and the base64 of the signing key. */
  secret: string;
  description: string | null;
  createdAt: number;
  /** Attempts that failed in a row; a delivered one resets it. */
  consecutiveFailures: number;
  /** Nothing is sent to it before this time (its circuit breaker is open); null when never paused. */
  pausedUntil: number | null;
  /** When a receiver answered `410 Gone`: nothing is sent to it any more. */
  disabledAt: number | null;
}

export type DeliveryState = 'pending' | 'delivered' | 'failed';

/** One attempt at sending a delivery: the HTTP status answered, or why none was. */
export interface DeliveryAttempt {
  attempt: number;
  attemptedAt: number;
  /** The receiver's HTTP status; null when no answer arrived. */
  status: number | null;
  error: string | null;
}

/** One event for one endpoint, with where its sending stands. */
export interface WebhookDeliveryRecord {
  /** `evt_…`, sent as `webhook-id`: the same on every attempt. */
  id: string;
  endpointId: string;
  batchId: string;
  eventType: string;
  /** The JSON body sent, exactly as signed. */
  payload: string;
  state: DeliveryState;
  attempts: number;
  /** When the next attempt is due; null once delivered or failed. */
  nextAttemptAt: number | null;
  lastStatus: number | null;
  lastError: string | null;
  createdAt: number;
  deliveredAt: number | null;
  /** Every attempt made, oldest first. */
  attemptLog: DeliveryAttempt[];
}

/** A delivery leased to one sender, with what it needs to send it. */
export interface ClaimedDelivery {
  id: string;
  endpointId: string;
  url: string;
  secret: string;
  payload: string;
  /** Attempts including this one. */
  attempt: number;
}

/** An event to store for every endpoint of the batch's workspace. */
export interface NewEvent {
  type: string;
  /** The JSON body, without its per-delivery id (the body is the same for every endpoint). */
  payload: string;
}

/** What an attempt came to: delivered, due again at `retryAt`, or failed for good (neither). */
export interface AttemptResult {
  status: number | null;
  error: string | null;
  delivered: boolean;
  /** When to try again; null ends an undelivered delivery `failed`. */
  retryAt: number | null;
  /** When a failure pauses the endpoint (a delivery ends its pause). */
  pause: PausePolicy;
  /** The receiver is gone (`410`): disable the endpoint and fail its pending deliveries. */
  disable: boolean;
}

/**
 * An endpoint's circuit breaker: the failed attempt that makes `afterFailures` in a row pauses it
 * for `firstMs`; each further one in a row pauses it twice as long as the one before, at most `longestMs`.
 */
export interface PausePolicy {
  afterFailures: number;
  firstMs: number;
  longestMs: number;
}

/** How many deliveries one claim may take: in all, and with those already leased, per endpoint and per workspace. */
export interface ClaimLimits {
  total: number;
  perEndpoint: number;
  perWorkspace: number;
}

export interface DeliveryPage {
  deliveries: WebhookDeliveryRecord[];
  hasMore: boolean;
}

/**
 * Webhook endpoints and their deliveries. Deliveries are created by an outbox scan over ended
 * batches (durable: a batch that ended is announced even when the process died right after),
 * and are sent under leases, so processes sharing a store never send one delivery at once.
 */
export interface WebhookStore {
  /**
   * Stores the endpoint unless its workspace already has `maxPerWorkspace`; false then. Concurrent
   * creates, on one node or many, never take a workspace past the bound.
   */
  createEndpoint(endpoint: WebhookEndpointRecord, maxPerWorkspace?: number): Promise<boolean>;
  /** Oldest first. */
  listEndpoints(workspaceId: string): Promise<WebhookEndpointRecord[]>;
  getEndpoint(workspaceId: string, id: string): Promise<WebhookEndpointRecord | null>;
  /** Removes the endpoint with its deliveries; false when the workspace has no such endpoint. */
  deleteEndpoint(workspaceId: string, id: string): Promise<boolean>;

  /**
   * In one transaction: takes up to `limit` ended batches not yet announced, stores one delivery
   * per event of `eventsFor(batch)` for each enabled endpoint of the batch's workspace (due at `now`),
   * and marks the batches announced. Returns how many batches it announced.
   */
  announceEndedBatches(now: number, limit: number, eventsFor: (batch: BatchRecord) => NewEvent[]): Promise<number>;
  /**
   * Leases pending deliveries due at `now` of endpoints neither paused nor disabled, fairly (see
   * `fair-claim.ts`): each counts an attempt and is due again at `leaseUntil`.
   */
  claimDeliveries(owner: string, limits: ClaimLimits, leaseUntil: number, now: number): Promise<ClaimedDelivery[]>;
  /**
   * Records an attempt of a delivery still leased by `owner` for that attempt, and its endpoint's
   * health (failures in a row, pause, disabling); false when the lease was lost.
   */
  recordAttempt(owner: string, id: string, attempt: number, result: AttemptResult, now: number): Promise<boolean>;

  /** Newest first; `afterId` pages to older deliveries. */
  listDeliveries(workspaceId: string, endpointId: string, page: { limit: number; afterId?: string }): Promise<DeliveryPage>;
  /** Makes a delivery pending and due at `now` (after a receiver was fixed); null when there is no such delivery. */
  retryDelivery(workspaceId: string, endpointId: string, id: string, now: number): Promise<WebhookDeliveryRecord | null>;
  /** Removes up to `limit` delivered or failed deliveries created before `before`. */
  purgeDeliveries(before: number, limit: number): Promise<number>;
}
