import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { json, mostly, PARAM_ERROR, text } from '../../test-support/properties/translation-arbitraries.js';
import type { ChatCompletionRequest, ChatMessage } from '../backends/openai/chat-completions.js';
import { toOpenAI } from './to-openai.js';
import { validateParams } from './validate-params.js';
import { chatToMessages } from './chat-to-messages.js';

const SEED = 20_251_125;

const imageUrl = mostly(fc.constantFrom('data:image/png;base64,AAAA', 'https://x.test/a.png'), fc.constantFrom('data:image/bmp;base64,AA', 'ftp://x'));
const userPart = mostly(
  fc.oneof(fc.record({ type: fc.constant('text'), text: mostly(text) }), fc.record({ type: fc.constant('image_url'), image_url: fc.record({ url: imageUrl }) })),
  fc.record({ type: fc.constantFrom('input_audio', 'file'), input_audio: json }),
);
const user = fc.record({ role: fc.constant('user'), content: fc.oneof(mostly(text), fc.array(userPart, { minLength: 1, maxLength: 3 })) });
const system = fc.record({
  role: fc.constantFrom('system', 'developer'),
  content: fc.oneof(fc.string(), fc.array(fc.record({ type: fc.constant('text'), text: fc.string() }), { minLength: 1, maxLength: 2 })),
});
const call = fc.record({
  id: mostly(text),
  type: fc.constant('function'),
  function: fc.record({ name: mostly(text), arguments: mostly(fc.constantFrom('{}', '{"city":"Paris"}', ''), fc.constantFrom('[1]', '{"city":')) }),
});
const assistantText = fc.record({ role: fc.constant('assistant'), content: mostly(text) }).map((message) => [message]);
const assistantTools = fc
  .array(call, { minLength: 1, maxLength: 2 })
  .map((calls) => [{ role: 'assistant', content: null, tool_calls: calls }, ...calls.map((c) => ({ role: 'tool', tool_call_id: c.id, content: 'ok' }))]);
const exchange = fc
  .tuple(fc.option(system, { nil: undefined }), user, fc.oneof(assistantText, assistantTools))
  .map(([instructions, question, answer]) => [...(instructions === undefined ? [] : [instructions]), question, ...answer]);
const conversation = fc.array(exchange, { maxLength: 3 }).chain((exchanges) => user.map((last) => [...exchanges.flat(), last]));
const anyMessage = fc.record({ role: fc.oneof(fc.constantFrom('system', 'user', 'assistant', 'tool', 'function'), json), content: json }, { requiredKeys: [] });
const functionTool = fc.record({ type: fc.constant('function'), function: fc.record({ name: mostly(text), parameters: mostly(fc.constant({ type: 'object' })) }, { requiredKeys: ['name'] }) });

const body = fc.record(
  {
    model: mostly(fc.constant('claude-haiku-4-5')),
    messages: fc.oneof({ arbitrary: conversation, weight: 9 }, { arbitrary: fc.array(anyMessage, { maxLength: 4 }), weight: 1 }),
    max_tokens: mostly(fc.integer({ min: 1, max: 8192 })),
    temperature: mostly(fc.double({ min: 0, max: 1, noNaN: true }), fc.oneof(fc.double({ min: 1, max: 2, noNaN: true }), json)),
    top_p: mostly(fc.double({ min: 0, max: 1, noNaN: true })),
    stop: mostly(fc.oneof(text, fc.array(text, { maxLength: 3 }))),
    user: mostly(text),
    n: mostly(fc.constant(1), fc.oneof(fc.integer({ min: 0, max: 2 }), json)),
    tools: mostly(fc.array(functionTool, { maxLength: 2 })),
    tool_choice: mostly(fc.constantFrom('auto', 'none', 'required')),
    parallel_tool_calls: mostly(fc.boolean()),
  },
  { requiredKeys: ['model', 'messages'] },
);

describe('chatToMessages on generated input', () => {
  it('answers params the Messages API accepts, or an error naming a param, and never throws', () => {
    let translated = 0;
    fc.assert(
      fc.property(mostly(body), (input) => {
        const result = chatToMessages(input);
        if ('error' in result) expect(result.error).toMatch(PARAM_ERROR);
        else {
          expect(validateParams(result.params)).toBeNull();
          translated += 1;
        }
      }),
      { numRuns: 2000, seed: SEED },
    );
    expect(translated).toBeGreaterThan(400);
  });

  it('gives back an equivalent chat request through the OpenAI-compatible backend translation', () => {
    const turn = (role: 'user' | 'assistant') => text.map((content): ChatMessage => ({ role, content }));
    const conversation = fc
      .array(fc.tuple(turn('user'), turn('assistant')), { maxLength: 3 })
      .chain((pairs) => turn('user').map((last) => [...pairs.flat(), last]));
    const request = fc.record(
      {
        model: text,
        messages: fc.tuple(fc.option(text, { nil: undefined }), conversation).map(([system, turns]) =>
          system === undefined ? turns : [{ role: 'system' as const, content: system }, ...turns],
        ),
        max_tokens: fc.integer({ min: 1, max: 100_000 }),
        temperature: fc.double({ min: 0, max: 1, noNaN: true }),
        top_p: fc.double({ min: 0, max: 1, noNaN: true }),
        stop: fc.array(text, { minLength: 1, maxLength: 4 }),
        user: text,
      },
      { requiredKeys: ['model', 'messages', 'max_tokens'] },
    );
    fc.assert(
      fc.property(request, (original: ChatCompletionRequest) => {
        const translated = chatToMessages(original);
        if ('error' in translated) throw new Error(translated.error);
        const back = toOpenAI(translated.params);
        if ('error' in back) throw new Error(back.error);
        expect(back.body).toEqual(original);
      }),
      { numRuns: 500, seed: SEED },
    );
  });
});
