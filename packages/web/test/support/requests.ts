import type { BatchCreateRequest } from '@batchd/sdk';

export const MODEL = 'claude-sonnet-4-5';

export function request(customId: string, text = `Say hello to ${customId}.`, userId?: string): BatchCreateRequest {
  return {
    custom_id: customId,
    params: {
      model: MODEL,
      max_tokens: 64,
      messages: [{ role: 'user', content: text }],
      ...(userId === undefined ? {} : { metadata: { user_id: userId } }),
    },
  };
}

/** A request the emulator answers with `invalid_request_error`, so it ends errored. */
export function failingRequest(customId: string): BatchCreateRequest {
  return request(customId, 'This one fails.', 'emulator:error=invalid_request_error');
}

export function toJsonl(requests: Array<BatchCreateRequest | string>): string {
  return requests.map((line) => (typeof line === 'string' ? line : JSON.stringify(line))).join('\n') + '\n';
}
