import type { ErrorOutcome } from '../backends/backend.js';
import type { Completion } from '../store/store.js';
import type { BackendLane } from './backend-lane.js';

/** A call's answer as the result to store with the model the answer names, or the failure to retry or report. */
export type KindOutcome = { kind: 'succeeded'; completion: Completion; model: unknown } | ErrorOutcome;

/** One call of a claimed request. */
export interface CallContext {
  /** The request's key in the store. */
  key: number;
  /** The lane serving the request's model. */
  lane: BackendLane;
  /** The request's params, as {@link RequestKind.parse} read them. */
  params: Record<string, unknown>;
  /** The same params as the JSON text they were stored as, which `JSON.stringify(params)` gives back. */
  paramsText: string;
  signal: AbortSignal;
  /** Which attempt at this request this call is, counting from 1. */
  attempt: number;
  /** The request's prefix key (see `translate/prefix-key.ts`), when it shares a prefix: backends with replicas route by it. */
  prefixKey?: string;
  /** The size of that prefix in tokens, estimated. */
  prefixTokens?: number;
  /** Asked once a slot is free: false when the request is no longer wanted (its batch expired or is being canceled). */
  stillWanted: () => boolean;
}

/**
 * How the engine handles the requests of one kind, set by the dialect (the API surface) they
 * came in through: reading their stored params, calling a backend with them, and writing their
 * results in that surface's shape. Claims, routing, retries and leases are the engine's, the same
 * for every kind.
 */
export interface RequestKind {
  /** The stored params, parsed, and the model they name; or why they cannot be sent. */
  parse(params: string): { params: Record<string, unknown>; model: string } | { invalid: string };
  /** Calls the lane once a slot is free; null when `stillWanted` said no by then. */
  call(context: CallContext): Promise<KindOutcome | null>;
  /** The result of a request that ends with this error. */
  errored(key: number, errorType: string, message: string): Completion;
}
