import type { BatchdClient, RequestOptions } from '@batchd/sdk';

/** One backend lane as `GET /v1/batchd/backends` reports it. */
export interface BackendStatus {
  name: string;
  type: string;
  concurrency_limit: number;
  in_flight: number;
  paused: boolean;
  calls: number;
  succeeded: number;
  rateLimited: number;
  overloaded: number;
  serverErrors: number;
  authFailures: number;
}

/** Token totals of a batch's results (`GET /v1/messages/batches/{id}/usage`). */
export interface BatchUsage {
  input_tokens: number;
  output_tokens: number;
  cache_creation_input_tokens: number;
  cache_read_input_tokens: number;
}

export async function fetchBackends(client: BatchdClient, options?: RequestOptions): Promise<BackendStatus[]> {
  const body = await client.requestJSON<{ data: BackendStatus[] }>({ ...options, method: 'GET', path: '/v1/batchd/backends' });
  return body.data;
}

export async function fetchUsage(client: BatchdClient, id: string, options?: RequestOptions): Promise<BatchUsage> {
  const path = `/v1/messages/batches/${encodeURIComponent(id)}/usage`;
  const body = await client.requestJSON<{ usage: BatchUsage }>({ ...options, method: 'GET', path });
  return body.usage;
}
