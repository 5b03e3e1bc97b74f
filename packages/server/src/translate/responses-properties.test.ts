import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { json, mostly, PARAM_ERROR, text } from '../../test-support/properties/translation-arbitraries.js';
import { chatToMessages } from './chat-to-messages.js';
import { chatToResponse } from './chat-to-response.js';
import { messageToChatCompletion } from './message-to-chat.js';
import { responsesToChat } from './responses-to-chat.js';
import { validateParams } from './validate-params.js';

const SEED = 20_261_205;

const inputText = fc.record({ type: fc.constant('input_text'), text: mostly(text) });
const userPart = mostly(
  fc.oneof(inputText, fc.record({ type: fc.constant('input_image'), image_url: mostly(fc.constant('https://x.test/a.png')) })),
  fc.record({ type: fc.constantFrom('input_file', 'input_audio'), file_id: json }),
);
const user = fc.record({ role: fc.constant('user'), content: fc.oneof(mostly(text), fc.array(userPart, { minLength: 1, maxLength: 3 })) });
const system = fc.record({ role: fc.constantFrom('system', 'developer'), content: fc.oneof(text, fc.array(inputText, { minLength: 1, maxLength: 2 })) });
const assistant = fc.record({ type: fc.constant('message'), role: fc.constant('assistant'), content: fc.array(fc.record({ type: fc.constant('output_text'), text }), { minLength: 1, maxLength: 2 }) });
const calls = fc
  .array(fc.record({ call_id: mostly(text), name: mostly(text), arguments: mostly(fc.constantFrom('{}', '{"city":"Paris"}'), fc.constantFrom('[1]', '{"city":')) }), { minLength: 1, maxLength: 2 })
  .map((made) => [...made.map((call) => ({ type: 'function_call', ...call })), ...made.map((call) => ({ type: 'function_call_output', call_id: call.call_id, output: 'ok' }))]);
const exchange = fc.tuple(fc.option(system, { nil: undefined }), user, fc.oneof(assistant.map((item) => [item]), calls));
const input = fc.oneof(
  text,
  fc.array(exchange, { maxLength: 3 }).chain((exchanges) =>
    user.map((last) => [...exchanges.flatMap(([instructions, question, answer]) => [...(instructions ? [instructions] : []), question, ...answer]), last]),
  ),
  fc.array(fc.record({ type: fc.oneof(fc.constantFrom('message', 'reasoning', 'function_call'), json), role: json, content: json }, { requiredKeys: [] }), { maxLength: 3 }),
);
const tool = fc.record({ type: mostly(fc.constant('function'), fc.constantFrom('web_search', 'file_search')), name: mostly(text), parameters: mostly(fc.constant({ type: 'object' })) }, { requiredKeys: ['type', 'name'] });

const body = fc.record(
  {
    model: mostly(fc.constant('claude-haiku-4-5')),
    input: mostly(input),
    instructions: mostly(text),
    max_output_tokens: mostly(fc.integer({ min: 1, max: 8192 }), fc.oneof(fc.integer({ min: -2, max: 0 }), json)),
    temperature: mostly(fc.double({ min: 0, max: 1, noNaN: true })),
    top_p: mostly(fc.double({ min: 0, max: 1, noNaN: true })),
    tools: mostly(fc.array(tool, { maxLength: 2 })),
    tool_choice: mostly(fc.constantFrom('auto', 'none', 'required')),
    reasoning: fc.constant(null),
    truncation: mostly(fc.constant('disabled')),
    store: fc.boolean(),
  },
  { requiredKeys: ['model', 'input'] },
);

describe('responsesToChat on generated input', () => {
  it('answers a chat body that goes on to valid Messages params or names a param, never throws, and answers a response', () => {
    let translated = 0;
    fc.assert(
      fc.property(mostly(body), (request) => {
        const result = responsesToChat(request);
        if ('error' in result) {
          expect(result.error).toMatch(PARAM_ERROR);
          return;
        }
        const messages = chatToMessages(result.body);
        if ('error' in messages) {
          expect(messages.error).toMatch(PARAM_ERROR);
          return;
        }
        expect(validateParams(messages.params)).toBeNull();
        translated += 1;
        const message = { id: 'msg_1', type: 'message', role: 'assistant', content: [{ type: 'text', text: 'ok' }], model: 'm', stop_reason: 'end_turn', usage: { input_tokens: 1, output_tokens: 1 } };
        const completion = messageToChatCompletion(message as never, { created: 1 });
        expect(chatToResponse(completion as never, request as Record<string, unknown>, 1)).toMatchObject({ object: 'response', status: 'completed', output: [{ type: 'message' }] });
      }),
      { numRuns: 2000, seed: SEED },
    );
    expect(translated).toBeGreaterThan(300);
  });
});
