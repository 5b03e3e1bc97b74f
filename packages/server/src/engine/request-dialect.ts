import type { ErrorOutcome } from '../backends/backend.js';
import type { Completion } from '../store/store.js';
import type { BackendLane } from './backend-lane.js';

/** A call's answer as the result to store, or the failure to retry or report. */
export type DialectOutcome = { kind: 'succeeded'; completion: Completion } | ErrorOutcome;

/**
 * How the engine handles requests of one dialect (see `Dialect` in the store): reading their
 * stored params, calling a backend with them, and writing results in the dialect's shape. Claims,
 * routing, retries and leases are the engine's, the same for every dialect.
 */
export interface RequestDialect {
  /** The stored params, parsed, and the model they name; or why they cannot be sent. */
  parse(params: string): { params: Record<string, unknown>; model: string } | { invalid: string };
  /** Calls `lane` once a slot is free; null when `stillWanted` said no by then. */
  call(key: number, lane: BackendLane, params: Record<string, unknown>, signal: AbortSignal, attempt: number, stillWanted: () => boolean): Promise<DialectOutcome | null>;
  /** The result of a request that ends with this error. */
  errored(key: number, errorType: string, message: string): Completion;
}
