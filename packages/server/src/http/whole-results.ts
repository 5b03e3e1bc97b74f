import type { BatchRecord, BatchesStore } from '../store/store.js';

/**
 * The stored results of an ended batch as the store reads them, failing once read if the batch
 * was deleted or archived meanwhile: its rows may have been purged half way through, and a short
 * body that ends cleanly would pass for the whole. The failure cuts the response off, so the
 * client sees an interrupted body.
 */
export async function* wholeResults(pages: AsyncIterable<Buffer>, store: BatchesStore, batch: BatchRecord): AsyncGenerator<Buffer> {
  yield* pages;
  const current = await store.getBatch(batch.workspaceId, batch.id);
  if (!current || current.archivedAt !== null) throw new Error(`Batch ${batch.id} was deleted or archived while its results were read.`);
}
