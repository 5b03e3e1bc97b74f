import { describe, expect, it } from 'vitest';
import { parseExpiresAfter, parseMetadata } from './openai-fields.js';

const pairs = (count: number) => Object.fromEntries(Array.from({ length: count }, (_, i) => [`k${i}`, `v${i}`]));

describe('parseMetadata', () => {
  it('takes up to 16 pairs with keys of 64 and values of 512 characters, counted as characters', () => {
    expect(parseMetadata(undefined)).toBeNull();
    expect(parseMetadata(null)).toBeNull();
    expect(parseMetadata(pairs(16))).toEqual(pairs(16));
    const longest = { ['k'.repeat(64)]: 'v'.repeat(512), ['😀'.repeat(64)]: '😀'.repeat(512) };
    expect(parseMetadata(longest)).toEqual(longest);
  });

  it('refuses anything else with a message naming metadata', () => {
    const refused = (metadata: unknown) => {
      try {
        parseMetadata(metadata);
      } catch (error) {
        return (error as Error).message;
      }
      throw new Error('accepted');
    };
    expect(refused(pairs(17))).toBe('metadata: at most 16 keys, got 17.');
    expect(refused({ ['k'.repeat(65)]: 'v' })).toMatch(/^metadata: key "k{16}"… is longer than 64 characters\.$/);
    expect(refused({ ['😀'.repeat(65)]: 'v' })).toMatch(/longer than 64 characters/);
    expect(refused({ key: 'v'.repeat(513) })).toBe('metadata: the value of "key" is longer than 512 characters.');
    expect(refused({ key: 5 })).toBe('metadata: the value of "key" must be a string.');
    expect(refused(['a'])).toBe('metadata: must be an object of string values.');
    expect(refused('a')).toBe('metadata: must be an object of string values.');
  });
});

describe('parseExpiresAfter', () => {
  it('takes seconds from one hour to thirty days after created_at, as numbers or decimal text', () => {
    expect(parseExpiresAfter('p', undefined)).toBeNull();
    expect(parseExpiresAfter('p', { anchor: 'created_at', seconds: 3600 })).toEqual({ anchor: 'created_at', seconds: 3600 });
    expect(parseExpiresAfter('p', { anchor: 'created_at', seconds: '2592000' })).toEqual({ anchor: 'created_at', seconds: 2592000 });
  });

  it('names the param and the field at fault', () => {
    const refused = (policy: unknown) => () => parseExpiresAfter('expires_after', policy);
    expect(refused({ anchor: 'created_at', seconds: 3599 })).toThrow(/^expires_after\.seconds: must be an integer from 3600 \(1 hour\) to 2592000 \(30 days\), got 3599\.$/);
    expect(refused({ anchor: 'created_at', seconds: 2592001 })).toThrow(/^expires_after\.seconds: .* got 2592001\.$/);
    expect(refused({ anchor: 'created_at', seconds: 3600.5 })).toThrow(/^expires_after\.seconds:/);
    expect(refused({ anchor: 'created_at', seconds: '1e4' })).toThrow(/^expires_after\.seconds: .* got "1e4"\.$/);
    expect(refused({ anchor: 'created_at' })).toThrow(/^expires_after\.seconds: .* got null\.$/);
    expect(refused(JSON.parse('{"anchor":"created_at","seconds":1e400}'))).toThrow(/^expires_after\.seconds: .* got Infinity\.$/);
    expect(refused({ anchor: 'last_active_at', seconds: 3600 })).toThrow(/^expires_after\.anchor: must be "created_at", got "last_active_at"\.$/);
    expect(refused(3600)).toThrow(/^expires_after: must be an object/);
  });
});
