import { storedApiKey } from './session.js';

/** The fields of an OpenAI batch object the dashboard shows. */
export interface OpenAIBatch {
  id: string;
  status: 'validating' | 'failed' | 'in_progress' | 'finalizing' | 'completed' | 'expired' | 'cancelling' | 'cancelled';
  endpoint: string;
  input_file_id: string;
  output_file_id: string | null;
  error_file_id: string | null;
  created_at: number;
  expires_at: number;
  completed_at: number | null;
  failed_at: number | null;
  expired_at: number | null;
  cancelling_at: number | null;
  cancelled_at: number | null;
  request_counts: { total: number; completed: number; failed: number };
  metadata: Record<string, string> | null;
  errors: { data: Array<{ code: string; message: string; line: number | null }> } | null;
}

/** A failed call of the OpenAI-format API, with the message of its error body. */
export class OpenAIApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(`HTTP ${status}: ${message}`);
  }
}

/** GETs a path of the OpenAI-format API with the stored key. */
async function get(path: string, signal?: AbortSignal): Promise<Response> {
  const response = await fetch(path, { headers: { authorization: `Bearer ${storedApiKey() ?? ''}` }, signal });
  if (!response.ok) {
    const body = (await response.json().catch(() => null)) as { error?: { message?: string } } | null;
    throw new OpenAIApiError(response.status, body?.error?.message ?? response.statusText);
  }
  return response;
}

/** The newest OpenAI batches of the workspace. */
export async function listOpenAIBatches(limit: number, signal?: AbortSignal): Promise<OpenAIBatch[]> {
  return ((await (await get(`/v1/batches?limit=${limit}`, signal)).json()) as { data: OpenAIBatch[] }).data;
}

export async function retrieveOpenAIBatch(id: string, signal?: AbortSignal): Promise<OpenAIBatch> {
  return (await (await get(`/v1/batches/${encodeURIComponent(id)}`, signal)).json()) as OpenAIBatch;
}

/** The content of a file (an output or error file) as text. */
export async function fileContent(id: string, signal?: AbortSignal): Promise<string> {
  return (await get(`/v1/files/${encodeURIComponent(id)}/content`, signal)).text();
}

/** Seconds since the epoch as the ISO text the dashboard's formatters take. */
export const isoOf = (seconds: number) => new Date(seconds * 1000).toISOString();
