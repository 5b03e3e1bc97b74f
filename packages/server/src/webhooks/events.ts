import { formatTimestamp } from '../clock.js';
import { openAIStatus, toOpenAIBatch } from '../wire/openai-batch.js';
import { toMessageBatch } from '../wire/message-batch.js';
import type { BatchRecord } from '../store/store.js';
import type { NewEvent } from '../store/webhook-store.js';

/**
 * The event types an ended batch announces: message batches announce `batch.ended`; OpenAI
 * (chat) batches announce their final status, as OpenAI's webhooks do: `batch.completed`,
 * `batch.failed`, `batch.expired` or `batch.cancelled`.
 */
export function eventTypesFor(batch: BatchRecord): string[] {
  return batch.dialect === 'chat' ? [`batch.${openAIStatus(batch)}`] : ['batch.ended'];
}

/**
 * The events of an ended batch, each a Standard Webhooks body: `{"type", "timestamp", "data"}`
 * with the batch as its API returns it (a MessageBatch, or OpenAI's batch object).
 */
export function eventsFor(batch: BatchRecord, publicUrl: string): NewEvent[] {
  const data = batch.dialect === 'chat' ? toOpenAIBatch(batch) : toMessageBatch(batch, publicUrl);
  const timestamp = formatTimestamp(batch.endedAt ?? batch.createdAt);
  return eventTypesFor(batch).map((type) => ({ type, payload: JSON.stringify({ type, timestamp, data }) }));
}
