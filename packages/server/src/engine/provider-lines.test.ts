import { describe, expect, it } from 'vitest';
import { completionFor, fromProviderCustomId, lineFor, providerCustomId } from './provider-lines.js';

const MESSAGES_PARAMS = '{"model":"claude-x","max_tokens":16,"messages":[{"role":"user","content":"hi"}],"metadata":{"user_id":"u"}}';
const CHAT_PARAMS = '{"model":"gpt-x","messages":[{"role":"user","content":"hi"}],"max_tokens":16}';
const MESSAGE = {
  id: 'msg_1', type: 'message', role: 'assistant', model: 'claude-x', content: [{ type: 'text', text: 'hello' }],
  stop_reason: 'end_turn', stop_sequence: null, usage: { input_tokens: 3, output_tokens: 2, service_tier: 'batch' }, extra_field: { kept: true },
};
const COMPLETION = {
  id: 'chatcmpl-1', object: 'chat.completion', created: 1, model: 'gpt-x',
  choices: [{ index: 0, message: { role: 'assistant', content: 'hello' }, finish_reason: 'stop' }],
  usage: { prompt_tokens: 5, completion_tokens: 2, total_tokens: 7 }, service_tier: 'default',
};

describe('provider lines', () => {
  it('names each line by store key and dialect, and reads back only names batchd gave', () => {
    expect(providerCustomId(42, 'messages')).toBe('m42');
    expect(fromProviderCustomId('c7')).toEqual({ key: 7, dialect: 'chat' });
    expect(fromProviderCustomId('request-1')).toBeNull();
    expect(completionFor('anthropic-batch', 'someone-else', { type: 'canceled' }, 0)).toBeNull();
  });

  it('sends Messages params to anthropic-batch as stored, byte for byte', () => {
    expect(lineFor('anthropic-batch', { key: 1, params: MESSAGES_PARAMS, dialect: 'messages' })).toEqual({ line: { customId: 'm1', body: MESSAGES_PARAMS } });
  });

  it('translates across dialects: Messages to chat lines for openai-batch, chat to Messages for anthropic-batch', () => {
    const toChat = lineFor('openai-batch', { key: 2, params: MESSAGES_PARAMS.replace('claude-x', 'gpt-x'), dialect: 'messages' });
    expect(JSON.parse(('line' in toChat && toChat.line.body) || '{}')).toMatchObject({ model: 'gpt-x', messages: [{ role: 'user', content: 'hi' }] });
    const toMessages = lineFor('anthropic-batch', { key: 3, params: CHAT_PARAMS, dialect: 'chat' });
    expect(JSON.parse(('line' in toMessages && toMessages.line.body) || '{}')).toMatchObject({ model: 'gpt-x', max_tokens: 16 });
    expect(lineFor('openai-batch', { key: 4, params: CHAT_PARAMS, dialect: 'chat' })).toEqual({ line: { customId: 'c4', body: CHAT_PARAMS } });
  });

  it('ends errored a request whose params have no translation, without sending it', () => {
    const params = '{"model":"gpt-x","max_tokens":16,"messages":[{"role":"user","content":"hi"}],"thinking":{"type":"enabled","budget_tokens":1024}}';
    const built = lineFor('openai-batch', { key: 5, params, dialect: 'messages' });
    expect('errored' in built && built.errored).toMatchObject({ key: 5, type: 'errored' });
    expect(JSON.parse(('errored' in built && built.errored.result) || '{}')).toMatchObject({ type: 'errored', error: { error: { type: 'invalid_request_error' } } });
  });

  it("keeps the provider's message whole, service_tier and unknown fields too, with usage totals", () => {
    const done = completionFor('anthropic-batch', 'm9', { type: 'succeeded', body: MESSAGE }, 0)!;
    expect(JSON.parse(done.result!)).toEqual({ type: 'succeeded', message: MESSAGE });
    expect(done.usage).toMatchObject({ input_tokens: 3, output_tokens: 2 });
    const text = `{"type":"succeeded","message":${JSON.stringify(MESSAGE, null, 1)}}`;
    expect(completionFor('anthropic-batch', 'm9', { type: 'succeeded', body: MESSAGE, resultText: text }, 0)!.result).toBe(text);
    const chat = completionFor('openai-batch', 'c9', { type: 'succeeded', body: COMPLETION }, 0)!;
    expect(JSON.parse(chat.result!)).toMatchObject({ status_code: 200, body: COMPLETION });
    const message = completionFor('openai-batch', 'm9', { type: 'succeeded', body: COMPLETION }, 0)!;
    expect(JSON.parse(message.result!)).toMatchObject({ type: 'succeeded', message: { type: 'message', content: [{ type: 'text', text: 'hello' }] } });
  });

  it('maps errored, canceled and expired lines to the same result types', () => {
    const errored = completionFor('anthropic-batch', 'm1', { type: 'errored', status: 400, errorType: 'invalid_request_error', message: 'bad' }, 0)!;
    expect(JSON.parse(errored.result!)).toMatchObject({ type: 'errored', error: { error: { type: 'invalid_request_error', message: 'bad' } } });
    expect(completionFor('anthropic-batch', 'm2', { type: 'canceled' }, 0)).toEqual({ key: 2, type: 'canceled', result: null });
    expect(completionFor('openai-batch', 'c3', { type: 'expired' }, 0)).toEqual({ key: 3, type: 'expired', result: null });
  });
});
