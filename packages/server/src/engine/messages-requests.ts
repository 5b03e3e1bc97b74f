import type { Message } from '@batchd/sdk';
import type { Completion, UsageTotals } from '../store/store.js';
import { sendMessages } from '../translate/send-messages.js';
import { validateParams } from '../translate/validate-params.js';
import { erroredResult, succeededResult } from '../wire/message-result.js';
import type { RequestKind } from './request-kind.js';

function usageOf(message: Message): UsageTotals {
  const usage = message.usage;
  return {
    input_tokens: usage?.input_tokens ?? 0,
    output_tokens: usage?.output_tokens ?? 0,
    cache_creation_input_tokens: usage?.cache_creation_input_tokens ?? 0,
    cache_read_input_tokens: usage?.cache_read_input_tokens ?? 0,
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
    const { key, lane, params, signal, attempt, prefixKey } = context;
    const outcome = await lane.callWith((backend) => sendMessages(backend, { params, signal, attempt, routingKey: prefixKey }), 'batch', context);
    if (outcome === null || outcome.kind === 'error') return outcome;
    return { kind: 'succeeded', completion: { key, type: 'succeeded', result: succeededResult(outcome.message), usage: usageOf(outcome.message) } };
  },

  errored(key, errorType, message) {
    return { key, type: 'errored', result: erroredResult(errorType, message) };
  },
};
