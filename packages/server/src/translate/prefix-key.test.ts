import { describe, expect, it } from 'vitest';
import { prefixKey, readStoredPrefix, storedPrefix } from './prefix-key.js';

const doc = 'A long document. '.repeat(200);
const question = (text: string) => ({ role: 'user', content: text });

describe('prefixKey', () => {
  it('groups Messages params by everything up to the last cache_control breakpoint', () => {
    const ask = (text: string) => ({
      model: 'claude-x',
      max_tokens: 10,
      system: [{ type: 'text', text: doc, cache_control: { type: 'ephemeral' } }],
      messages: [question(text)],
    });
    const first = prefixKey(ask('Who?'), 'messages');
    expect(first).toMatchObject({ cacheControl: true });
    expect(first?.key).toBe(prefixKey(ask('When?'), 'messages')?.key);
    expect(first?.key).toMatch(/^[\w-]{16}$/);
    expect(first?.tokens).toBeGreaterThan(doc.length / 4);
    expect(first?.tokens).toBeLessThan(doc.length / 4 + 50);
    expect(prefixKey({ ...ask('Who?'), model: 'claude-y' }, 'messages')?.key).not.toBe(first?.key);
  });

  it('ends the prefix at a breakpoint inside a message and leaves later blocks out', () => {
    const ask = (text: string) => ({
      model: 'm',
      messages: [{ role: 'user', content: [{ type: 'text', text: doc, cache_control: { type: 'ephemeral' } }, { type: 'text', text }] }],
    });
    const key = prefixKey(ask('one'), 'messages');
    expect(key?.cacheControl).toBe(true);
    expect(prefixKey(ask('two'), 'messages')?.key).toBe(key?.key);
  });

  it('without a breakpoint takes the system prompt, tools and every turn but the last', () => {
    const ask = (system: string, text: string) => ({ model: 'm', system, messages: [question('earlier'), { role: 'assistant', content: 'ok' }, question(text)] });
    const key = prefixKey(ask(doc, 'a'), 'messages');
    expect(key?.cacheControl).toBe(false);
    expect(prefixKey(ask(doc, 'b'), 'messages')?.key).toBe(key?.key);
    expect(prefixKey(ask(`${doc}!`, 'a'), 'messages')?.key).not.toBe(key?.key);
  });

  it('answers undefined when nothing precedes the last turn', () => {
    expect(prefixKey({ model: 'm', messages: [question('hi')] }, 'messages')).toBeUndefined();
    expect(prefixKey({ model: 'm', system: '', messages: [question('hi')] }, 'messages')).toBeUndefined();
    expect(prefixKey({ model: 'm', messages: [question('hi')] }, 'chat')).toBeUndefined();
  });

  it('groups chat params by every message but the last', () => {
    const ask = (text: string) => ({ model: 'm', messages: [{ role: 'system', content: doc }, question(text)] });
    const key = prefixKey(ask('one'), 'chat');
    expect(key).toMatchObject({ cacheControl: false });
    expect(prefixKey(ask('two'), 'chat')?.key).toBe(key?.key);
  });

  it('with breakpointsOnly, answers undefined for a prefix without one', () => {
    const params = { model: 'm', system: doc, messages: [question('hi')] };
    expect(prefixKey(params, 'messages', { breakpointsOnly: true })).toBeUndefined();
    expect(prefixKey(params, 'messages')).toBeDefined();
  });

  it('stores a prefix as one text and reads it back', () => {
    const prefix = prefixKey({ model: 'm', system: doc, messages: [question('hi')] }, 'messages')!;
    expect(readStoredPrefix(storedPrefix(prefix))).toEqual({ key: prefix.key, tokens: prefix.tokens });
    expect(readStoredPrefix(undefined)).toBeUndefined();
    expect(readStoredPrefix('no tokens')).toBeUndefined();
  });
});
