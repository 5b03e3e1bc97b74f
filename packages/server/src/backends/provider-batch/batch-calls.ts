import { ProviderBatchError, type ProviderBatchStatus } from './provider-batch-client.js';

/** Calls both provider batch clients make the same way: paging through a list, and cancelling. */

/** What one page of a provider's batch list said: whether to stop, and the cursor of the next page. */
export interface PageStep {
  done: boolean;
  next?: string;
}

const MAX_PAGES = 1000;

/**
 * Reads a provider's list of batches page by page (newest first), `read(after)` reading the page
 * after the cursor (the first page with `undefined`), until a page says it is done, gives no
 * cursor, or repeats one. Passing 1,000 pages throws (not retryable) rather than answer "not found",
 * since "not found" lets the caller submit again.
 */
export async function findInPages(read: (after: string | undefined) => Promise<PageStep>): Promise<void> {
  const seen = new Set<string>();
  let after: string | undefined;
  for (let pages = 0; pages < MAX_PAGES; pages += 1) {
    const { done, next } = await read(after);
    if (done || next === undefined || seen.has(next)) return;
    seen.add(next);
    after = next;
  }
  throw new ProviderBatchError(`listing provider batches passed ${MAX_PAGES} pages`, { status: 0, retryable: false });
}

/**
 * Cancels with `cancel`; a refusal (a 4xx other than a rate limit) of a batch that `retrieve`
 * then finds ended is no failure, since an ended batch has nothing left to cancel.
 */
export async function cancelUnlessEnded(cancel: () => Promise<unknown>, retrieve: () => Promise<ProviderBatchStatus>): Promise<void> {
  try {
    await cancel();
  } catch (error) {
    if (!(error instanceof ProviderBatchError) || error.retryable || error.status === 0) throw error;
    if ((await retrieve()).state !== 'ended') throw error;
  }
}
