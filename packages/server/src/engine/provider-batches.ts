import type { Logger } from 'pino';
import type { ProviderBatchType } from '../backends/backend-spec.js';
import { ProviderBatchError, type ProviderBatchClient, type ProviderBatchStatus, type ProviderLineOutcome } from '../backends/provider-batch/provider-batch-client.js';
import type { Clock } from '../clock.js';
import type { PriceList } from '../pricing/price-list.js';
import type { ProviderBatchStore, ProviderCompletion, SubmissionRecord } from '../store/provider-batch-store.js';
import { nextPollAt } from './poll-schedule.js';
import { GATHER_QUIET_MS, ProviderGather } from './provider-gather.js';
import type { ProviderBatchStats } from './provider-batch-stats.js';
import { completionFor, erroredCompletion, OPENAI_BATCH_ENDPOINT } from './provider-lines.js';
import { ProviderResultGroups } from './provider-result-groups.js';
import { submissionLines } from './provider-send-lines.js';

export interface ProviderBatchesOptions {
  /** The backend's name, as requests are routed to it. */
  name: string;
  type: ProviderBatchType;
  client: ProviderBatchClient;
  store: ProviderBatchStore;
  clock: Clock;
  logger: Logger;
  /** Lease owner id of this process. */
  owner: string;
  /** How often a provider batch still running is asked about. */
  pollIntervalMs: number;
  /** How long a submission stays leased to this process without a turn renewing it. */
  leaseMs: number;
  /** How often routed requests are looked at for a new provider batch. */
  turnMs?: number;
  /** Prices of the models answered: provider batches are priced at batch prices. */
  prices: PriceList;
  /** Counters for `/metrics`. */
  stats: ProviderBatchStats;
}

/** Requests read from the store per round trip when ending them errored. */
const PAGE = 1000;
/** The provider's clock may run behind ours: a batch created this long before the intent still matches. */
const CLOCK_SKEW_MS = 5 * 60_000;
const FIRST_BACKOFF_MS = 1000;

/**
 * Sends the requests routed to one provider-batch backend as provider batches and brings their
 * results back, one turn at a time, never two turns at once. A turn gathers routed requests into
 * a new provider batch once the engine has routed all it found queued (or none arrived for a
 * second, or the limits are reached): the intent is written first, then the provider called.
 * It then works every submission it holds: an intent whose answer may have been lost is looked
 * up with `find` before anything is sent again; a running batch is polled every interval, or
 * sooner when its counts say it ends sooner (`poll-schedule.ts`), and canceled at the provider
 * once every request it still holds belongs to a batch being canceled; an ended batch's results
 * are written (each once: the store skips requests already ended) and the requests it lacked are
 * routed again. Provider errors back off, as long as the provider asks when it says. The next
 * turn is set for when something comes due (a poll an interval after the submit, the next one
 * the schedule sets, a back-off's end, the gather's end), besides a regular turn for other
 * processes' work.
 */
export class ProviderBatches {
  private timer: NodeJS.Timeout | undefined;
  private turn: Promise<void> | null = null;
  /** Whether a wake came during a turn: another runs right after it. */
  private again = false;
  private readonly gathering: ProviderGather;
  private dueTimer: NodeJS.Timeout | undefined;
  /** When each live submission this process holds is next polled. */
  private readonly pollDue = new Map<number, number>();
  /** Intents opened by this process and not sent yet: nothing can have reached the provider. */
  private readonly fresh = new Set<number>();
  /** Provider ids already recorded, which `find` must not adopt for another intent. */
  private readonly known = new Set<string>();
  private readonly waitUntil = new Map<number, number>();
  private readonly failures = new Map<number, number>();
  private readonly abort = new AbortController();
  /** Bytes a submission is opened with: the provider's limit, lowered each time lines framed outgrow it. */
  private maxBytes: number;

  constructor(private readonly options: ProviderBatchesOptions) {
    this.gathering = new ProviderGather(options.client.limits.maxRequests);
    this.maxBytes = options.client.limits.maxBytes;
  }

  start(): void {
    this.timer = setInterval(() => this.wake(), this.options.turnMs ?? Math.min(1000, this.options.pollIntervalMs));
    this.wake();
  }

  /** Runs a turn now, or right after the one under way. */
  wake(): void {
    if (this.abort.signal.aborted) return;
    if (this.turn) return void (this.again = true);
    this.turn = this.runTurn()
      .then((next) => this.wakeAt(next))
      .catch((error: unknown) => this.options.logger.error({ err: error, backend: this.options.name }, 'provider batch turn failed'))
      .finally(() => {
        this.turn = null;
        if (!this.again) return;
        this.again = false;
        this.wake();
      });
  }

  /**
   * Told by the engine once routes are written: `drained` when it found nothing more queued. Each
   * report runs a turn: one that finds the routed requests at the provider's limits opens a
   * provider batch at once, without waiting for the engine's last pass to say it is drained.
   */
  routed(drained: boolean): void {
    this.gathering.routed(drained);
    this.wake();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    clearTimeout(this.dueTimer);
    this.abort.abort();
    await this.turn;
    await this.options.client.close?.();
  }

  /** Sets the next turn for `at` (epoch ms), in place of the one set before; none for Infinity. */
  private wakeAt(at: number): void {
    clearTimeout(this.dueTimer);
    if (!Number.isFinite(at) || this.abort.signal.aborted) return;
    this.dueTimer = setTimeout(() => this.wake(), Math.max(0, at - this.options.clock.now()) + 1);
  }

  /** Opens a provider batch when the routed requests are gathered; returns when to look again. */
  private async gather(): Promise<number> {
    const { store, name, owner, clock, client } = this.options;
    const now = clock.now();
    const due = this.gathering.check(await store.routedCount(name), now);
    if (due !== 'open') return due;
    const opened = await store.openSubmission(name, owner, now + this.options.leaseMs, { ...client.limits, maxBytes: this.maxBytes }, now);
    if (opened) this.fresh.add(opened.id);
    // Requests over the limits, or routed meanwhile, are looked at again once quiet.
    return now + GATHER_QUIET_MS;
  }

  /** One turn; returns when the next is due (epoch ms). */
  private async runTurn(): Promise<number> {
    const { store, name, owner, clock } = this.options;
    let next = await this.gather();
    this.pollDue.clear();
    const held = await store.takeSubmissions(name, owner, clock.now() + this.options.leaseMs, clock.now());
    this.options.stats.held = held.length;
    for (const submission of held) if (submission.providerBatchId) this.known.add(submission.providerBatchId);
    for (const submission of held) {
      if (this.abort.signal.aborted) return next;
      if (submission.polledAt !== null) this.pollDue.set(submission.id, nextPollAt(submission, this.options.pollIntervalMs));
      const waitUntil = this.waitUntil.get(submission.id) ?? 0;
      if (clock.now() >= waitUntil) {
        try {
          await this.work(submission);
          this.failures.delete(submission.id);
        } catch (error) {
          this.backOff(submission, error);
        }
      }
      for (const at of [this.waitUntil.get(submission.id), this.pollDue.get(submission.id)]) if (at !== undefined && at > clock.now()) next = Math.min(next, at);
    }
    return next;
  }

  private backOff(submission: SubmissionRecord, error: unknown): void {
    if (this.abort.signal.aborted) return;
    const failures = (this.failures.get(submission.id) ?? 0) + 1;
    this.options.stats.callFailures += 1;
    this.failures.set(submission.id, failures);
    const backoff = Math.min(FIRST_BACKOFF_MS * 2 ** (failures - 1), this.options.pollIntervalMs);
    const wait = error instanceof ProviderBatchError && error.retryAfterMs !== undefined ? error.retryAfterMs : backoff;
    this.waitUntil.set(submission.id, this.options.clock.now() + wait);
    this.options.logger.warn({ err: error, backend: this.options.name, submission: submission.tag, waitMs: wait }, 'provider batch call failed; will try again');
  }

  private async work(submission: SubmissionRecord): Promise<void> {
    if (submission.providerBatchId === null) return this.send(submission);
    if (submission.state === 'ended') return this.collect(submission, submission.providerBatchId);
    if (submission.state === 'in_progress' && (await this.options.store.onlyCanceling(submission.id))) {
      await this.options.client.cancel(submission.providerBatchId, this.abort.signal);
      await this.record(submission, { state: 'canceling' });
    }
    if (this.options.clock.now() >= nextPollAt(submission, this.options.pollIntervalMs)) await this.poll(submission, submission.providerBatchId);
  }

  private record(submission: SubmissionRecord, update: Parameters<ProviderBatchStore['recordSubmission']>[2]): Promise<void> {
    return this.options.store.recordSubmission(submission.id, this.options.owner, update);
  }

  /** Sends an intent, unless the provider turns out to hold it already. */
  private async send(submission: SubmissionRecord): Promise<void> {
    const { client, clock } = this.options;
    const signal = this.abort.signal;
    if (!this.fresh.has(submission.id)) {
      const intent = { tag: submission.tag, createdAfterMs: submission.createdAt - CLOCK_SKEW_MS, requestCount: submission.requestCount, exclude: [...this.known] };
      const found = await client.find(intent, signal);
      if (found) return this.adopt(submission, found);
    }
    const lines = await submissionLines(this.options.store, this.options.type, clock, submission.id, client.lineTemplate?.(OPENAI_BATCH_ENDPOINT));
    if (lines === null) return void (await this.options.store.closeSubmission(submission.id, this.options.owner));
    // From here the provider may hold it whatever the answer: a later attempt looks it up first.
    this.fresh.delete(submission.id);
    let providerBatchId: string;
    try {
      ({ providerBatchId } = await client.submit({ tag: submission.tag, endpoint: OPENAI_BATCH_ENDPOINT, lines }, signal));
    } catch (error) {
      const refused = error instanceof ProviderBatchError && !error.retryable;
      // batchd's own refusal (status 0): the lines as framed (translated, escaped) outgrew the limit. Nothing
      // was sent: the requests are gathered again into smaller submissions, and a lone request that never fits ends.
      if (refused && error.status === 0 && submission.requestCount > 1) return this.shrink(submission, error);
      if (refused && (error.status === 0 || (error.status >= 400 && error.status < 500))) return this.refuse(submission, error);
      throw error;
    }
    await this.adopt(submission, providerBatchId, clock.now());
  }

  private async adopt(submission: SubmissionRecord, providerBatchId: string, polledAt?: number): Promise<void> {
    this.known.add(providerBatchId);
    await this.record(submission, { providerBatchId, state: 'in_progress', polledAt });
    // Polled first an interval after the submit: the provider cannot have ended it sooner.
    if (polledAt !== undefined) {
      this.pollDue.set(submission.id, polledAt + this.options.pollIntervalMs);
      this.options.stats.submittedBatch(submission.requestCount);
    }
    this.options.logger.info({ backend: this.options.name, submission: submission.tag, providerBatchId }, 'provider batch submitted');
  }

  private async shrink(submission: SubmissionRecord, error: ProviderBatchError): Promise<void> {
    this.maxBytes = Math.floor((this.maxBytes * 3) / 4);
    this.options.logger.warn({ err: error, backend: this.options.name, submission: submission.tag, maxBytes: this.maxBytes }, 'provider batch outgrew the limit as framed; gathering smaller ones');
    await this.options.store.closeSubmission(submission.id, this.options.owner);
  }

  /** The provider refused the whole batch: every request in it ends errored with its reason. */
  private async refuse(submission: SubmissionRecord, error: ProviderBatchError): Promise<void> {
    this.options.logger.error({ err: error, backend: this.options.name, submission: submission.tag }, 'provider refused a batch');
    await this.record(submission, { state: 'ended', failure: error.message });
    await this.endWaiting(submission, error.errorType ?? 'invalid_request_error', error.message);
  }

  /** Ends every request the submission still waits for as errored, then closes it. */
  private async endWaiting(submission: SubmissionRecord, errorType: string, message: string): Promise<void> {
    const { store, clock } = this.options;
    for (;;) {
      const page = await store.submissionRequests(submission.id, 0, PAGE);
      if (page.length === 0) break;
      await store.completeSubmitted(submission.id, page.map((request) => erroredCompletion(request.key, request.dialect, errorType, message)), clock.now());
    }
    await store.closeSubmission(submission.id, this.options.owner);
  }

  private async poll(submission: SubmissionRecord, providerBatchId: string): Promise<void> {
    // Counted from when it was asked, so a slow answer does not push every later poll back.
    const polledAt = this.options.clock.now();
    const status = await this.options.client.retrieve(providerBatchId, this.abort.signal);
    this.options.stats.polls += 1;
    await this.record(submission, { state: status.state, counts: status.counts, polledAt, failure: status.failure });
    this.pollDue.set(submission.id, nextPollAt({ createdAt: submission.createdAt, counts: status.counts, polledAt }, this.options.pollIntervalMs));
    if (status.state === 'ended') await this.collect(submission, providerBatchId, status);
  }

  /**
   * A result given its cost, at the backend kind's (batch) prices for the model the answer names.
   * Set on the result itself, made for this line: a copy of each of 100,000 results took 0.1-0.3 s.
   */
  private priced(completion: ProviderCompletion, outcome: ProviderLineOutcome): ProviderCompletion {
    if (!completion.usage || outcome.type !== 'succeeded') return completion;
    const model = typeof outcome.body.model === 'string' ? outcome.body.model : '';
    completion.cost = this.options.prices.cost(model, this.options.type, completion.usage);
    return completion;
  }

  /**
   * Writes an ended batch's results as they stream, then closes it: requests it lacked are routed
   * again. `ended`, the status the poll that saw it end read, says where the results are. A
   * download cut short throws once what it read is written; the next try asks the provider again
   * and writes only what is still missing.
   */
  private async collect(submission: SubmissionRecord, providerBatchId: string, ended?: ProviderBatchStatus): Promise<void> {
    const { store, client, clock, type, stats } = this.options;
    const groups = new ProviderResultGroups((completions) => store.completeSubmitted(submission.id, completions, clock.now()));
    try {
      for await (const page of client.results(providerBatchId, this.abort.signal, ended)) {
        const now = clock.now();
        for (const line of page) {
          const completion = completionFor(type, line.customId, line.outcome, now);
          if (!completion) continue;
          stats.read(completion);
          await groups.add(this.priced(completion, line.outcome));
        }
      }
    } finally {
      // Lines read before a download is cut short are written too: the next try skips them.
      await groups.flush();
    }
    // A batch the provider failed as a whole (OpenAI's `failed`) is not sent again as it was.
    const failure = submission.failure ?? ended?.failure;
    if (failure) return this.endWaiting(submission, 'api_error', `the provider failed the batch: ${failure}`);
    const lacked = await store.closeSubmission(submission.id, this.options.owner);
    if (lacked > 0) this.options.logger.warn({ backend: this.options.name, submission: submission.tag, lacked }, 'provider batch ended without some requests; they are sent again');
  }
}
