/**
 * What a create records so that a repeated create returns the batch the first one made: its
 * caller, the SHA-256 of its body and its `Idempotency-Key`, if any. Both stores decide at the
 * end of the create, inside its transaction, before the new batch becomes visible.
 */

/** How long an `Idempotency-Key` names the batch its first create made; later the key may be reused. */
export const IDEMPOTENCY_KEY_TTL_MS = 24 * 3_600_000;

/**
 * How long after a create began a retry of it (`x-stainless-retry-count` above 0) is still
 * recognised, measured from the start of the first attempt to the start of the retry: longer
 * than the official SDKs' default 10-minute timeout plus their backoff, so a retry after a
 * response that never arrived is still caught.
 */
export const RETRY_WINDOW_MS = 15 * 60_000;

export interface CreateOptions {
  /** Who sent the create (the API key's id, or its hash when keys are not checked). */
  caller: string;
  /** The SHA-256 (hex) of the create's body; called once the requests are all read. */
  bodyDigest: () => string;
  /** The client's `Idempotency-Key`: the same key in the workspace within 24 h returns the first batch. */
  idempotencyKey?: string;
  /**
   * The client says this is a retry (`x-stainless-retry-count` above 0): a batch the same caller
   * created from the same body within {@link RETRY_WINDOW_MS} is returned instead of a new one.
   */
  retried?: boolean;
  /** Asked only when the create would make a new batch: an error returned fails it instead. */
  refuseNew?: () => Error | null;
}

/** Thrown by `createBatch` when the create's key named an earlier create with another body. */
export class IdempotencyKeyReused extends Error {
  constructor(
    readonly idempotencyKey: string,
    readonly batchId: string,
  ) {
    super(`Idempotency-Key ${JSON.stringify(idempotencyKey)} was used for batch ${batchId} with a different request body.`);
    this.name = 'IdempotencyKeyReused';
  }
}

/** The record of an earlier create that a new create's key or digest matched. */
export interface EarlierCreate {
  batchId: string;
  bodyDigest: string;
}

/** Records older than these are of no use any more: the maintenance purge deletes them. */
export function purgeBefore(now: number): { keyed: number; unkeyed: number } {
  return { keyed: now - IDEMPOTENCY_KEY_TTL_MS, unkeyed: now - RETRY_WINDOW_MS };
}
