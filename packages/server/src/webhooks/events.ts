import { formatTimestamp } from '../clock.js';
import { toMessageBatch } from '../http/wire.js';
import type { BatchRecord } from '../store/store.js';
import type { NewEvent } from '../store/webhook-store.js';

/** The event types an ended batch announces. Anthropic-dialect batches announce `batch.ended`. */
export function eventTypesFor(_batch: BatchRecord): string[] {
  return ['batch.ended'];
}

/**
 * The events of an ended batch, each a Standard Webhooks body:
 * `{"type", "timestamp", "data": <the MessageBatch as the API returns it>}`.
 */
export function eventsFor(batch: BatchRecord, publicUrl: string): NewEvent[] {
  const data = toMessageBatch(batch, publicUrl);
  const timestamp = formatTimestamp(batch.endedAt ?? batch.createdAt);
  return eventTypesFor(batch).map((type) => ({ type, payload: JSON.stringify({ type, timestamp, data }) }));
}
