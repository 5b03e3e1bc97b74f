/**
 * Quarantine. A request whose lease lapses while it runs was held by a process that died or
 * stopped renewing; it goes back in the queue, and its `lease_losses` grow by one. When that
 * would make `MAX_LEASE_LOSSES`, the request is ended `errored` instead: a request that takes
 * batchd down is not sent forever. Only leases of `running` requests count, so a request handed
 * to a provider's batch API, in a state of its own, never does.
 */
export const MAX_LEASE_LOSSES = 3;

export const QUARANTINE_MESSAGE = `This request could not be processed: the batchd process working on it stopped ${MAX_LEASE_LOSSES} times before it finished.`;

/**
 * The stored result of a quarantined request of a message batch. Requests of chat batches store
 * none: their error file line says why (`result-file.ts`).
 */
export const QUARANTINED_RESULT = JSON.stringify({
  type: 'errored',
  error: { type: 'error', error: { type: 'api_error', message: QUARANTINE_MESSAGE }, request_id: null },
});
