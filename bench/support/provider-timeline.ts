/**
 * The timeline of one batch through a provider-batch backend, from what batchd and the fake
 * provider (its `/_fake/calls` record and its batches' `created_at`/`ended_at`) each saw. Every
 * time is epoch milliseconds from the one machine's clock.
 */

export interface FakeCallTimes {
  method: string;
  path: string;
  at: number;
  answeredAt: number | null;
}

export interface ProviderBatchTimes {
  id: string;
  createdAt: number;
  endedAt: number;
}

export interface TimelineInput {
  /** When the client sent the create, and when batchd acknowledged it. */
  sent: number;
  acknowledged: number;
  /** When batchd wrote the first provider batch's intent. */
  intent: number;
  /** When batchd's batch ended. */
  ended: number;
  calls: FakeCallTimes[];
  /** The provider batches, as the provider reports them. */
  batches: ProviderBatchTimes[];
}

/**
 * Seconds each step took, in order; `added` is what batchd adds beyond the provider's processing:
 * the provider's batches running and its own handling of the create.
 */
export interface Timeline {
  upload: number;
  routing: number;
  submit: number;
  /** Of `submit`, the provider's own handling of the create (from its body fully read to its answer): the provider's processing. */
  providerCreate: number;
  provider: number;
  pollLag: number;
  download: number;
  writeTail: number;
  added: number;
}

const seconds = (ms: number) => ms / 1000;

/** The first answered call of `method` on a path `test` accepts, received at or after `from`. */
function firstCall(calls: FakeCallTimes[], method: string, test: (path: string) => boolean, from: number): FakeCallTimes {
  const call = calls.find((candidate) => candidate.method === method && test(candidate.path) && candidate.at >= from && candidate.answeredAt !== null);
  if (!call) throw new Error(`the provider saw no ${method} call matching after ${new Date(from).toISOString()}`);
  return call;
}

/**
 * Splits the time from the create to the batch's end: upload (the client's), routing and
 * gathering until the intent, the provider's create answered, the provider's processing (from
 * its first batch's create to its last batch's end), the first retrieve that saw the last batch
 * ended, its results downloaded, and the last results written until the batch ended. The
 * provider's handling of the create is its processing too, so `added` leaves it out. Each phase
 * starts no earlier than the create's answer: an intent the create wrote itself takes no routing
 * time, and what the provider did before the client had its answer is not taken from `added`.
 */
export function providerTimeline(input: TimelineInput): Timeline {
  const { calls, batches } = input;
  if (batches.length === 0) throw new Error('the provider holds no batch');
  const last = batches.reduce((latest, batch) => (batch.endedAt > latest.endedAt ? batch : latest));
  const firstCreated = Math.min(...batches.map((batch) => batch.createdAt));
  const created = firstCall(calls, 'POST', (path) => path.endsWith('/batches'), input.intent);
  const sawEnded = firstCall(calls, 'GET', (path) => path.endsWith(`/batches/${last.id}`), last.endedAt);
  const results = firstCall(calls, 'GET', (path) => path.endsWith(`/batches/${last.id}/results`), sawEnded.at);
  // Only what the provider did after the create's answer reached the client is left out of `added`.
  const provider = seconds(last.endedAt - Math.max(firstCreated, input.acknowledged));
  const providerCreate = seconds(created.answeredAt! - Math.max(created.at, input.acknowledged));
  // An intent written by the create itself comes before its answer reaches the client: no routing time.
  const routed = Math.max(input.intent, input.acknowledged);
  return {
    upload: seconds(input.acknowledged - input.sent),
    routing: seconds(routed - input.acknowledged),
    submit: seconds(created.answeredAt! - routed),
    providerCreate,
    provider,
    pollLag: seconds(sawEnded.answeredAt! - last.endedAt),
    download: seconds(results.answeredAt! - sawEnded.answeredAt!),
    writeTail: seconds(input.ended - results.answeredAt!),
    added: seconds(input.ended - input.acknowledged) - provider - providerCreate,
  };
}
