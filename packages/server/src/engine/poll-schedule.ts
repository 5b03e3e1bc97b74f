import type { SubmissionRecord } from '../store/provider-batch-store.js';

/** The shortest wait between two polls of one provider batch, as a share of the poll interval. */
const SHORTEST_SHARE = 0.25;

/**
 * When a running provider batch is next asked about (epoch ms). An interval after its last poll,
 * unless the provider's counts show its requests finishing: OpenAI's move as a batch runs (an
 * Anthropic batch's stay all `processing` until it ends). Then it is the moment its last request
 * would finish, at the rate they have finished since the intent, when that comes sooner; never
 * sooner than a quarter interval after the last poll, so a batch whose requests are all finished
 * (OpenAI's `finalizing`) is asked at most four times an interval. Never polled: due now.
 */
export function nextPollAt(submission: Pick<SubmissionRecord, 'createdAt' | 'counts' | 'polledAt'>, intervalMs: number): number {
  const { polledAt, counts, createdAt } = submission;
  if (polledAt === null) return 0;
  const regular = polledAt + intervalMs;
  const finished = counts.succeeded + counts.errored + counts.canceled + counts.expired;
  const elapsed = polledAt - createdAt;
  if (finished === 0 || elapsed <= 0) return regular;
  const expectedEnd = polledAt + (counts.processing * elapsed) / finished;
  return Math.min(regular, Math.max(polledAt + intervalMs * SHORTEST_SHARE, Math.ceil(expectedEnd)));
}
