import type { BatchdClient, MessageBatch, MessageBatchProcessingStatus } from '@batchd/sdk';

/** Batches shown per list page. */
export const PAGE_SIZE = 20;
/** Batches fetched per API call while looking for ones with the chosen status. */
const SCAN_LIMIT = 100;
/** API pages scanned at most for one filtered list page; paging on continues from where it stopped. */
const MAX_SCANNED_PAGES = 10;

export interface ListView {
  batches: MessageBatch[];
  /** The `after_id` of the next (older) page, or null on the last page. */
  nextAfter: string | null;
}

/**
 * One page of the batch list: up to `PAGE_SIZE` batches older than `after` (newest first), with
 * `status` when given. The API has no status filter, so a filtered page walks the API's cursors
 * until it has a full page, reaches the end, or has scanned `MAX_SCANNED_PAGES` pages.
 */
export async function loadListView(
  client: BatchdClient,
  query: { after: string | undefined; status: MessageBatchProcessingStatus | null },
  signal: AbortSignal,
): Promise<ListView> {
  const wanted = (batch: MessageBatch) => query.status === null || batch.processing_status === query.status;
  const batches: MessageBatch[] = [];
  let cursor = query.after;
  for (let scanned = 0; scanned < MAX_SCANNED_PAGES; scanned++) {
    const limit = query.status === null ? PAGE_SIZE : SCAN_LIMIT;
    const page = await client.messages.batches.list({ after_id: cursor, limit }, { signal });
    for (const [index, batch] of page.data.entries()) {
      if (!wanted(batch)) continue;
      batches.push(batch);
      if (batches.length === PAGE_SIZE) {
        const more = page.has_more || page.data.slice(index + 1).some(wanted);
        return { batches, nextAfter: more ? batch.id : null };
      }
    }
    if (!page.has_more || page.last_id === null) return { batches, nextAfter: null };
    cursor = page.last_id;
  }
  return { batches, nextAfter: cursor ?? null };
}
