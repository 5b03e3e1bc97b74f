import type { ProviderCompletion } from '../store/provider-batch-store.js';
import { addTokens, type LaneTokens } from './backend-lane.js';

/**
 * What this process has done with one provider-batch backend since it started, for `/metrics`:
 * the counterpart of a direct backend's lane counters.
 */
export class ProviderBatchStats {
  /** Provider batches created at the provider, and the requests they carried. */
  submitted = 0;
  requestsSubmitted = 0;
  polls = 0;
  /** Provider calls that failed and are tried again after a back-off. */
  callFailures = 0;
  /** Live provider batches this process holds (submitting, running, or with results to write). */
  held = 0;
  /** Results read from the provider, by type, and their tokens: a result read again after a cut download counts again. */
  readonly results: Record<ProviderCompletion['type'], number> = { succeeded: 0, errored: 0, canceled: 0, expired: 0 };
  readonly tokens: LaneTokens = { input: 0, output: 0, cacheRead: 0, cacheWrite: 0 };

  constructor(readonly name: string) {}

  submittedBatch(requests: number): void {
    this.submitted += 1;
    this.requestsSubmitted += requests;
  }

  read(completion: ProviderCompletion): void {
    this.results[completion.type] += 1;
    if (completion.usage) addTokens(this.tokens, completion.usage);
  }
}
