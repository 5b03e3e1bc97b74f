import { paramsGarbage } from '../large-garbage.js';
import type { ProviderBatchStore } from '../store/provider-batch-store.js';
import type { ClaimedRequest } from '../store/store.js';
import type { Route } from './result-writer.js';

/** The OpenAI endpoint provider batches carry besides Messages. */
export const CHAT_COMPLETIONS = '/v1/chat/completions';
/** Queued requests handed to the provider batch serving every model per store call, unread and unleased. */
const ROUTE_GROUP = 10_000;

/**
 * Where a new batch's requests go as it opens: to `providerForAll` when one serves every model and
 * carries the batch's endpoint (null for Messages), else nowhere (queued for the engine).
 */
export function providerAtCreate(providerForAll: string | undefined): (endpoint: string | null) => string | undefined {
  return (endpoint) => (endpoint === null || endpoint === CHAT_COMPLETIONS ? providerForAll : undefined);
}

export interface ProviderRoutingOptions {
  /** The provider-batch backend serving every model, none before it: requests go to it unread (the provider checks them). */
  providerForAll?: string;
  store?: Pick<ProviderBatchStore, 'routeQueued'>;
  /**
   * Called once routed requests are written, `drained` when no more routes are on their way; and
   * with `drained` when, after routes reported with more to come, a claim finds nothing more
   * queued while nothing waits to be written.
   */
  onRouted?: (drained: boolean) => void;
  /** Writes a claimed request's route (the engine's result writer). */
  route: (route: Route) => void;
}

/**
 * The engine's side of the provider-batch backend that serves every model: its requests are
 * handed over unread, in the store while they are queued, and the provider batches are told when
 * routes are written.
 */
export class ProviderRouting {
  /** Whether routes were last reported with more queued: a claim that then finds nothing says so. */
  moreReported = false;

  constructor(private readonly options: ProviderRoutingOptions) {}

  /**
   * Tells the provider batches that routes were written, `drained` only when nothing more is on its
   * way: the last claim found nothing more queued, no claim is under way, no request is in flight
   * (it may yet be routed) and no routes wait to be written: a later claim's routes must not be
   * left for a second provider batch.
   */
  report(drained: boolean): void {
    this.moreReported = !drained;
    this.options.onRouted?.(drained);
  }

  /** Hands queued requests to `providerForAll` in the store, unread; returns how many. */
  async routeQueued(now: number): Promise<number> {
    const { providerForAll, store } = this.options;
    if (providerForAll === undefined || !store) return 0;
    return store.routeQueued(providerForAll, CHAT_COMPLETIONS, ROUTE_GROUP, now);
  }

  /** Hands a claimed request to `providerForAll` unread (one queued after the last routing); false without one, or for an endpoint provider batches do not carry. */
  routedWhole(request: ClaimedRequest): boolean {
    const provider = this.options.providerForAll;
    if (provider === undefined || (request.endpoint && request.endpoint !== CHAT_COMPLETIONS)) return false;
    paramsGarbage.released(request.params.length);
    this.options.route({ key: request.key, backend: provider });
    return true;
  }
}
