import type { Message } from '@batchd/sdk';
import { isObject } from '../json.js';
import type { Completion, UsageTotals } from '../store/store.js';
import { sendMessages } from '../translate/send-messages.js';
import { validateParams } from '../translate/validate-params.js';
import { erroredResult, succeededResult } from '../wire/message-result.js';
import type { RequestKind } from './request-kind.js';
import { tokenCount } from './token-count.js';

/** A message's token counts as batch usage totals; counts that are not sensible numbers count 0. */
export function usageOf(message: Message): UsageTotals {
  const usage: Partial<Message['usage']> = isObject(message.usage) ? message.usage : {};
  return {
    input_tokens: tokenCount(usage.input_tokens),
    output_tokens: tokenCount(usage.output_tokens),
    cache_creation_input_tokens: tokenCount(usage.cache_creation_input_tokens),
    cache_read_input_tokens: tokenCount(usage.cache_read_input_tokens),
  };
}

/** Message batch requests: Messages params, checked here, and `{"type":"succeeded"|"errored",...}` results. */
export const messagesRequests: RequestKind = {
  parse(text) {
    let params: Record<string, unknown>;
    try {
      params = JSON.parse(text) as Record<string, unknown>;
    } catch {
      return { invalid: 'params: not valid JSON' };
    }
    const invalid = validateParams(params);
    return invalid === null ? { params, model: params.model as string } : { invalid };
  },

  async call(context) {
    const { key, lane, params, paramsText, signal, attempt, prefixKey } = context;
    const outcome = await lane.callWith((backend) => sendMessages(backend, { params, paramsText, signal, attempt, routingKey: prefixKey }), 'batch', context);
    if (outcome === null || outcome.kind === 'error') return outcome;
    const completion: Completion = { key, type: 'succeeded', result: succeededResult(outcome.message, outcome.messageText), usage: usageOf(outcome.message) };
    return { kind: 'succeeded', completion, model: outcome.message.model };
  },

  errored(key, errorType, message) {
    return { key, type: 'errored', result: erroredResult(errorType, message) };
  },
};
