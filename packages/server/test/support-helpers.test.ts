import { describe, expect, it } from 'vitest';
import type { ApiResponse } from '../test-support/api/api.js';
import { parseResults, resultsById, timestampMicros } from '../test-support/api/batches.js';

/** The checks the black-box tests rely on reject what they are meant to reject. */

function resultsResponse(text: string, contentType = 'application/x-jsonl'): ApiResponse {
  return {
    status: 200,
    headers: new Headers({ 'content-type': contentType, 'request-id': 'req_test' }),
    requestId: 'req_test',
    contentType,
    text,
    body: undefined,
  };
}

const canceled = (customId: string) => JSON.stringify({ custom_id: customId, result: { type: 'canceled' } });

describe('parseResults', () => {
  it('accepts compact LF-terminated lines', () => {
    const lines = parseResults(resultsResponse(`${canceled('a')}\n${canceled('b')}\n`));
    expect(lines.map((line) => line.custom_id)).toEqual(['a', 'b']);
  });

  it('rejects a missing final newline, blank lines, CRLF, pretty-printed JSON and a wrong content type', () => {
    expect(() => parseResults(resultsResponse(`${canceled('a')}\n${canceled('b')}`))).toThrow(/newline/);
    expect(() => parseResults(resultsResponse(`${canceled('a')}\n\n${canceled('b')}\n`))).toThrow(/blank/);
    expect(() => parseResults(resultsResponse(`${canceled('a')}\r\n`))).toThrow(/LF/);
    expect(() => parseResults(resultsResponse(`{"custom_id": "a", "result": {"type": "canceled"}}\n`))).toThrow(/compact/);
    expect(() => parseResults(resultsResponse(`${canceled('a')}\n`, 'application/json'))).toThrow();
    expect(() => parseResults(resultsResponse(`${JSON.stringify({ custom_id: 'a', result: { type: 'lost' } })}\n`))).toThrow(
      /MessageBatchIndividualResponse/,
    );
  });
});

describe('resultsById', () => {
  it('rejects duplicates, missing and unexpected custom_ids', () => {
    const line = (customId: string) => ({ custom_id: customId, result: { type: 'canceled' as const } });
    expect(resultsById([line('a'), line('b')], ['a', 'b']).size).toBe(2);
    expect(() => resultsById([line('a'), line('a')])).toThrow(/more than once/);
    expect(() => resultsById([line('a')], ['a', 'b'])).toThrow(/missing/);
    expect(() => resultsById([line('a'), line('c')], ['a'])).toThrow(/unexpected/);
  });
});

describe('timestampMicros', () => {
  it('keeps microseconds', () => {
    expect(timestampMicros('2024-09-25T18:37:24.100435Z') - timestampMicros('2024-09-24T18:37:24.100435Z')).toBe(86_400_000_000);
    expect(timestampMicros('2024-09-24T18:37:24.100436Z') - timestampMicros('2024-09-24T18:37:24.100435Z')).toBe(1);
    expect(timestampMicros('2024-09-24T18:37:24Z') % 1_000_000).toBe(0);
  });
});
