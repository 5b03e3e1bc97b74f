/**
 * Quarantine. A request whose lease lapses while it runs was held by a process that died or
 * stopped renewing; it goes back in the queue, and its `lease_losses` grow by one. When that
 * would make `MAX_LEASE_LOSSES`, the request is ended `errored` instead: a request that takes
 * batchd down is not sent forever. Only leases of `running` requests count, so a request handed
 * to a provider's batch API, in a state of its own, never does.
 */
export const MAX_LEASE_LOSSES = 3;

/**
 * Lease losses that make a request a suspect: one more and it is quarantined. A crash takes every
 * request in flight with it, so a request that crashes batchd again and again would take the
 * requests claimed beside it into quarantine too. Suspects are therefore claimed apart from the
 * rest, at most one at a time per process (`claimRequests`' `suspects`): a suspect's last loss is
 * its own, never a neighbour's. One crash slows nothing: it takes two for a request to be one.
 * The stores' partial indexes of queued suspects (SQLite migration 21, PostgreSQL 18) are built on 2.
 */
export const SUSPECT_LEASE_LOSSES = MAX_LEASE_LOSSES - 1;

export const QUARANTINE_MESSAGE = `This request could not be processed: the batchd process working on it stopped ${MAX_LEASE_LOSSES} times before it finished.`;

/**
 * The stored result of a quarantined request of a message batch. Requests of chat batches store
 * none: their error file line says why (`result-file.ts`).
 */
export const QUARANTINED_RESULT = JSON.stringify({
  type: 'errored',
  error: { type: 'error', error: { type: 'api_error', message: QUARANTINE_MESSAGE }, request_id: null },
});
