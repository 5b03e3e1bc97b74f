import type { ChatCompletion } from '../backends/openai/chat-completions.js';
import type { ResponseObject, ResponseOutputItem } from '../backends/openai/responses.js';
import { isObject, type Json } from '../json.js';

/**
 * Turns the chat completion a translated Responses request was answered with (see
 * `responses-to-chat.ts`) into the `response` object a Responses client expects.
 *
 * - `output`: the first choice's text (and refusal) as one `message` item of `output_text` (and
 *   `refusal`) content, then each tool call as a `function_call` item (`call_id` the call's id).
 * - `status`: `incomplete` when the choice stopped at its token limit (`incomplete_details.reason`
 *   `max_output_tokens`) or was filtered (`content_filter`), else `completed`.
 * - `usage`: `prompt_tokens` → `input_tokens` (cached tokens in its details), `completion_tokens`
 *   → `output_tokens` (reasoning tokens in its details), and their total.
 * - `id` is `resp_` plus the completion's id without `chatcmpl-`; the request's `instructions`,
 *   `max_output_tokens`, `temperature`, `top_p`, `tools`, `tool_choice`, `parallel_tool_calls`,
 *   `store`, `user` and `metadata` are echoed, with OpenAI's defaults when not given.
 * A provider's completion is read defensively: fields of the wrong type count as absent.
 */

const count = (value: unknown) => (typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : 0);
const text = (value: unknown) => (typeof value === 'string' ? value : '');

function outputOf(message: Json, id: string): ResponseOutputItem[] {
  const content: Extract<ResponseOutputItem, { type: 'message' }>['content'] = [];
  if (text(message.content) !== '') content.push({ type: 'output_text', text: text(message.content), annotations: [] });
  if (text(message.refusal) !== '') content.push({ type: 'refusal', refusal: text(message.refusal) });
  const output: ResponseOutputItem[] = [];
  if (content.length > 0) output.push({ type: 'message', id: `msg_${id}`, status: 'completed', role: 'assistant', content });
  const calls = Array.isArray(message.tool_calls) ? message.tool_calls.filter(isObject) : [];
  for (const call of calls) {
    const fn = isObject(call.function) ? call.function : {};
    const callId = text(call.id);
    output.push({ type: 'function_call', id: `fc_${callId}`, call_id: callId, name: text(fn.name), arguments: text(fn.arguments), status: 'completed' });
  }
  return output;
}

function usageOf(usage: Partial<ChatCompletion['usage']> & { completion_tokens_details?: { reasoning_tokens?: unknown } }): ResponseObject['usage'] {
  const input = count(usage.prompt_tokens);
  const output = count(usage.completion_tokens);
  return {
    input_tokens: input,
    input_tokens_details: { cached_tokens: count(usage.prompt_tokens_details?.cached_tokens) },
    output_tokens: output,
    output_tokens_details: { reasoning_tokens: count(usage.completion_tokens_details?.reasoning_tokens) },
    total_tokens: input + output,
  };
}

const given = (request: Json, key: string, otherwise: unknown) => (request[key] === undefined || request[key] === null ? otherwise : request[key]);

export function chatToResponse(completion: Json, request: Json, createdSeconds: number): ResponseObject {
  const choice: Json = Array.isArray(completion.choices) && isObject(completion.choices[0]) ? completion.choices[0] : {};
  const id = text(completion.id).replace(/^chatcmpl-/, '');
  const reason = choice.finish_reason === 'length' ? 'max_output_tokens' : choice.finish_reason === 'content_filter' ? 'content_filter' : null;
  return {
    id: `resp_${id}`,
    object: 'response',
    created_at: count(completion.created) || createdSeconds,
    status: reason === null ? 'completed' : 'incomplete',
    error: null,
    incomplete_details: reason === null ? null : { reason },
    instructions: given(request, 'instructions', null),
    max_output_tokens: given(request, 'max_output_tokens', null),
    model: text(completion.model) || text(request.model),
    output: outputOf(isObject(choice.message) ? choice.message : {}, id),
    parallel_tool_calls: given(request, 'parallel_tool_calls', true),
    previous_response_id: null,
    reasoning: { effort: null, summary: null },
    store: given(request, 'store', true),
    temperature: given(request, 'temperature', 1),
    text: { format: { type: 'text' } },
    tool_choice: given(request, 'tool_choice', 'auto'),
    tools: given(request, 'tools', []),
    top_p: given(request, 'top_p', 1),
    truncation: 'disabled',
    usage: usageOf(isObject(completion.usage) ? completion.usage : {}),
    user: given(request, 'user', null),
    metadata: given(request, 'metadata', {}),
  };
}
