import type { ProviderBatchType } from '../backends/backend-spec.js';
import type { ProviderBatchLine } from '../backends/provider-batch/provider-batch-client.js';
import type { Clock } from '../clock.js';
import type { ProviderBatchStore, ProviderCompletion } from '../store/provider-batch-store.js';
import { lineFor } from './provider-lines.js';

/** Requests read from the store per round trip while a submission's body streams: a page is about 1 MB of params at 200 bytes each. */
const SEND_PAGE = 5000;

/** The lines of each page of a submission's requests still waiting, read as the body asks; those that cannot be sent end errored as they are read. */
async function* linePages(store: ProviderBatchStore, type: ProviderBatchType, clock: Clock, id: number): AsyncGenerator<ProviderBatchLine[]> {
  for (let after = 0; ; ) {
    const page = await store.submissionRequests(id, after, SEND_PAGE);
    if (page.length === 0) return;
    const lines: ProviderBatchLine[] = [];
    const errored: ProviderCompletion[] = [];
    for (const request of page) {
      const built = lineFor(type, request);
      if ('line' in built) lines.push(built.line);
      else errored.push(built.errored);
    }
    await store.completeSubmitted(id, errored, clock.now());
    after = page[page.length - 1]!.key;
    if (lines.length > 0) yield lines;
  }
}

/**
 * The lines of submission `id`, a page at a time as the provider's request body takes them (so
 * neither the lines nor the body are held whole); null when none is left to send. The first
 * page with a line is read before this returns.
 */
export async function submissionLines(store: ProviderBatchStore, type: ProviderBatchType, clock: Clock, id: number): Promise<AsyncIterable<ProviderBatchLine[]> | null> {
  const pages = linePages(store, type, clock, id);
  const first = await pages.next();
  if (first.done) return null;
  return (async function* () {
    yield first.value;
    yield* pages;
  })();
}
