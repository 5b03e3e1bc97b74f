import type { BackendReplicaStatus } from '@batchd/sdk';
import type { RateLimitState } from '../rate-limits.js';
import type { ReplicaSet } from './replica-set.js';

/** What every backend calling a provider over HTTP through a set of replicas shares. */
export abstract class ReplicatedBackend {
  protected constructor(protected readonly endpoint: ReplicaSet) {}

  /** What the latest response carrying rate-limit headers said; `{}` until one arrives. */
  rateLimit(): RateLimitState {
    return this.endpoint.rateLimit();
  }

  /** Whether a call with `routingKey` would go to the replica it prefers now. */
  hasRoomFor(routingKey: string): boolean {
    return this.endpoint.hasRoomFor(routingKey);
  }

  /** Each replica's URL, calls in flight and health. */
  replicas(): BackendReplicaStatus[] {
    return this.endpoint.status();
  }

  async close(): Promise<void> {
    await this.endpoint.close();
  }
}
