import { describe, expect, it } from 'vitest';
import { createBody, MAX_REPORTED_ERRORS, validateJsonl } from '../src/jsonl-validation.js';

const line = (customId: unknown, params: unknown = { model: 'm', max_tokens: 1, messages: [] }) => JSON.stringify({ custom_id: customId, params });

describe('validateJsonl', () => {
  it('accepts requests, skips blank lines, and keeps each line as written', () => {
    const text = `${line('a')}\r\n\n  ${line('b-2_C')}  \n`;
    const result = validateJsonl(text);
    expect(result.errors).toEqual([]);
    expect(result.requestLines).toBe(2);
    expect(result.lines).toEqual([line('a'), line('b-2_C')]);
    expect(JSON.parse(createBody(result.lines))).toEqual({ requests: [JSON.parse(line('a')), JSON.parse(line('b-2_C'))] });
  });

  it('reports each problem with its line number', () => {
    const text = [
      line('ok'),
      '{not json',
      '[1, 2]',
      JSON.stringify({ params: {} }),
      line(7),
      line('x'.repeat(65)),
      line('ok'),
      line('p', 'text'),
      JSON.stringify({ custom_id: 'q' }),
      JSON.stringify({ custom_id: 'r', params: {}, extra: 1 }),
    ].join('\n');
    const { errors, errorCount } = validateJsonl(text);
    expect(errorCount).toBe(9);
    expect(errors.map((e) => e.line)).toEqual([2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(errors.map((e) => e.message)).toEqual([
      expect.stringMatching(/^not valid JSON/),
      'must be a JSON object with "custom_id" and "params"',
      '"custom_id" is missing',
      '"custom_id" must be a string',
      expect.stringMatching(/^custom_id "x{65}" must be 1 to 64 letters/),
      'custom_id "ok" is already used on line 1',
      '"params" must be a JSON object (the body of a Messages request)',
      '"params" is missing',
      'unexpected field "extra": a request has only "custom_id" and "params"',
    ]);
  });

  it('reports an empty file and a file over the request limit as a whole', () => {
    expect(validateJsonl('\n \n').errors).toEqual([{ line: null, message: 'the file holds no requests' }]);
    const tooMany = Array.from({ length: 100_001 }, (_, i) => line(`r${i}`)).join('\n');
    const result = validateJsonl(tooMany);
    expect(result.errors).toEqual([{ line: null, message: '100,001 requests, but a batch holds at most 100,000; split the file' }]);
  });

  it('counts every problem but lists only the first ones', () => {
    const result = validateJsonl(Array.from({ length: 500 }, () => 'nope').join('\n'));
    expect(result.errorCount).toBe(500);
    expect(result.errors).toHaveLength(MAX_REPORTED_ERRORS);
    expect(result.errors.at(-1)?.line).toBe(MAX_REPORTED_ERRORS);
  });
});
