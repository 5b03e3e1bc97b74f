import type { OpenAIBatch } from '@batchd/sdk';

/**
 * The parts of the OpenAI Responses API wire format that batchd writes: the `response` object a
 * Responses request is answered with when batchd translates it (a server that serves the
 * Responses API answers its own, passed through).
 */

export interface ResponseOutputText {
  type: 'output_text';
  text: string;
  annotations: [];
}

export interface ResponseRefusal {
  type: 'refusal';
  refusal: string;
}

export type ResponseOutputItem =
  | { type: 'message'; id: string; status: 'completed'; role: 'assistant'; content: Array<ResponseOutputText | ResponseRefusal> }
  | { type: 'function_call'; id: string; call_id: string; name: string; arguments: string; status: 'completed' };

/** A response's token counts: the same shape as an OpenAI batch's `usage`. */
export type ResponseUsage = OpenAIBatch['usage'];

/** The `response` object (non-streaming), every key present. */
export interface ResponseObject {
  id: string;
  object: 'response';
  /** Seconds since the epoch. */
  created_at: number;
  status: 'completed' | 'incomplete';
  error: null;
  incomplete_details: { reason: 'max_output_tokens' | 'content_filter' } | null;
  instructions: unknown;
  max_output_tokens: unknown;
  model: string;
  output: ResponseOutputItem[];
  parallel_tool_calls: unknown;
  previous_response_id: null;
  reasoning: { effort: null; summary: null };
  store: unknown;
  temperature: unknown;
  text: { format: { type: 'text' } };
  tool_choice: unknown;
  tools: unknown;
  top_p: unknown;
  truncation: 'disabled';
  usage: ResponseUsage;
  user: unknown;
  metadata: unknown;
}
