import type { ProviderBatchType } from '../backends/backend-spec.js';
import type { FramedLines, LineTemplate, ProviderBatchLine } from '../backends/provider-batch/provider-batch-client.js';
import type { Clock } from '../clock.js';
import type { ProviderBatchStore, ProviderCompletion, StoreLineFrame } from '../store/provider-batch-store.js';
import type { Dialect } from '../store/store.js';
import { customIdLetter, lineFor, sentAsIs } from './provider-lines.js';

/** Requests read from the store per round trip while a submission's body streams: a page is about 1 MB of params at 200 bytes each. */
const SEND_PAGE = 5000;

/** The lines of each page of a submission's requests still waiting (none of dialect `except`), read as the body asks; those that cannot be sent end errored as they are read. */
async function* linePages(store: ProviderBatchStore, type: ProviderBatchType, clock: Clock, id: number, except?: Dialect): AsyncGenerator<ProviderBatchLine[]> {
  for (let after = 0; ; ) {
    const page = await store.submissionRequests(id, after, SEND_PAGE, except);
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

/** Each page of a submission's requests sent unchanged, written by the store as `frame` says. */
async function* framedPages(framedRequests: NonNullable<ProviderBatchStore['framedRequests']>, id: number, frame: StoreLineFrame): AsyncGenerator<FramedLines> {
  for (let after = 0; ; ) {
    const page = await framedRequests(id, after, SEND_PAGE, frame);
    if (page === null) return;
    after = page.lastKey;
    yield page;
  }
}

/**
 * The pages of submission `id`: where the store writes lines itself and the client says how
 * (`template`), those of the requests sent unchanged written by the store, then the others' lines;
 * else every request's line. Either way, read as the body takes them.
 */
async function* allPages(store: ProviderBatchStore, type: ProviderBatchType, clock: Clock, id: number, template?: LineTemplate): AsyncGenerator<ProviderBatchLine[] | FramedLines> {
  if (!template || !store.framedRequests) return yield* linePages(store, type, clock, id);
  const dialect = sentAsIs(type);
  yield* framedPages(store.framedRequests.bind(store), id, { ...template, dialect, before: template.before + customIdLetter(dialect) });
  yield* linePages(store, type, clock, id, dialect);
}

/**
 * The lines of submission `id`, a page at a time as the provider's request body takes them (so
 * neither the lines nor the body are held whole); null when none is left to send. The first
 * page with a line is read before this returns.
 */
export async function submissionLines(store: ProviderBatchStore, type: ProviderBatchType, clock: Clock, id: number, template?: LineTemplate): Promise<AsyncIterable<ProviderBatchLine[] | FramedLines> | null> {
  const pages = allPages(store, type, clock, id, template);
  const first = await pages.next();
  if (first.done) return null;
  return (async function* () {
    yield first.value;
    yield* pages;
  })();
}
