import type { Message } from '@batchd/sdk';
import type { ProviderBatchLine, ProviderLineOutcome } from '../backends/provider-batch/provider-batch-client.js';
import type { ProviderBatchType } from '../backends/backend-spec.js';
import type { ProviderCompletion, SubmissionRequest } from '../store/provider-batch-store.js';
import type { Dialect } from '../store/store.js';
import { chatToMessages } from '../translate/chat-to-messages.js';
import { fromOpenAI } from '../translate/from-openai.js';
import { messageToChatCompletion } from '../translate/message-to-chat.js';
import { toOpenAI } from '../translate/to-openai.js';
import { chatErrorResponse } from '../wire/chat-result.js';
import { erroredResult, succeededResult } from '../wire/message-result.js';
import { usageOf } from './messages-requests.js';
import { chatCompletionOf } from './openai-requests.js';

/** The line url of every openai-batch line: Messages params reach OpenAI as chat completions. */
export const OPENAI_BATCH_ENDPOINT = '/v1/chat/completions';

/**
 * A line's `custom_id` at the provider: the request's store key, with its dialect's letter, so one
 * provider batch may hold requests of many batchd batches whose own `custom_id`s repeat.
 */
export function providerCustomId(key: number, dialect: Dialect): string {
  return `${customIdLetter(dialect)}${key}`;
}

/** The letter a provider `custom_id` of `dialect` starts with. */
export function customIdLetter(dialect: Dialect): string {
  return dialect === 'chat' ? 'c' : 'm';
}

/** The dialect whose requests a provider batch of `type` carries unchanged. */
export function sentAsIs(type: ProviderBatchType): Dialect {
  return type === 'anthropic-batch' ? 'messages' : 'chat';
}

/** The key and dialect a provider `custom_id` names; null for one batchd never sent. */
export function fromProviderCustomId(customId: string): { key: number; dialect: Dialect } | null {
  const match = /^([cm])(\d{1,15})$/.exec(customId);
  return match ? { key: Number(match[2]), dialect: match[1] === 'c' ? 'chat' : 'messages' } : null;
}

/**
 * The provider line of a request: its stored params unchanged where the provider speaks its
 * dialect, else translated (`translate/`); a request that has no translation ends errored.
 */
export function lineFor(type: ProviderBatchType, request: SubmissionRequest): { line: ProviderBatchLine } | { errored: ProviderCompletion } {
  const customId = providerCustomId(request.key, request.dialect);
  const same = request.dialect === sentAsIs(type);
  if (same) return { line: { customId, body: request.params } };
  const params = JSON.parse(request.params) as Record<string, unknown>;
  const translated = type === 'openai-batch' ? toOpenAI(params) : chatToMessages(params);
  if ('error' in translated) return { errored: erroredCompletion(request.key, request.dialect, 'invalid_request_error', translated.error) };
  return { line: { customId, body: JSON.stringify('body' in translated ? translated.body : translated.params) } };
}

/** The errored result of a request, in its dialect's shape. */
export function erroredCompletion(key: number, dialect: Dialect, errorType: string, message: string): ProviderCompletion {
  return { key, type: 'errored', result: dialect === 'chat' ? chatErrorResponse(errorType, message) : erroredResult(errorType, message) };
}

/**
 * A succeeded line's answer, as the request's dialect stores it: the provider's own object kept
 * whole where it is that dialect's, as the provider's text when the client kept it.
 */
function succeeded(type: ProviderBatchType, key: number, dialect: Dialect, outcome: ProviderLineOutcome & { type: 'succeeded' }, now: number): ProviderCompletion {
  const { body } = outcome;
  if (type === 'anthropic-batch') {
    const message = body as unknown as Message;
    if (dialect === 'messages') return { key, type: 'succeeded', result: outcome.resultText ?? succeededResult(message), usage: usageOf(message) };
    return chatCompletionOf(key, messageToChatCompletion(message, { created: Math.floor(now / 1000) }));
  }
  if (dialect === 'chat') return chatCompletionOf(key, body);
  const translated = fromOpenAI(body, { model: typeof body.model === 'string' ? body.model : '' });
  if ('error' in translated) return erroredCompletion(key, dialect, 'api_error', `invalid response body: ${translated.error}`);
  return { key, type: 'succeeded', result: succeededResult(translated.message), usage: usageOf(translated.message) };
}

/** A provider's result line as the result batchd stores, or null for a line batchd never sent. */
export function completionFor(type: ProviderBatchType, customId: string, outcome: ProviderLineOutcome, now: number): ProviderCompletion | null {
  const sent = fromProviderCustomId(customId);
  if (!sent) return null;
  const { key, dialect } = sent;
  switch (outcome.type) {
    case 'succeeded':
      return succeeded(type, key, dialect, outcome, now);
    case 'errored':
      return erroredCompletion(key, dialect, outcome.errorType, outcome.message);
    default:
      return { key, type: outcome.type, result: null };
  }
}
