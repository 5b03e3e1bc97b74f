import { describe, expect, it } from 'vitest';
import { resultFileLine } from './result-file.js';

describe('result file lines', () => {
  it('carry the stored response of a request that ran', () => {
    const line = resultFileLine({ key: 7, customId: 'ok', type: 'succeeded', result: '{"status_code":200,"request_id":"req_1","body":{}}' });
    expect(JSON.parse(line)).toEqual({ id: 'batch_req_7', custom_id: 'ok', response: { status_code: 200, request_id: 'req_1', body: {} }, error: null });
  });

  it('say why a request has no response: expired, canceled, or quarantined', () => {
    const error = (type: 'expired' | 'canceled' | 'errored') => JSON.parse(resultFileLine({ key: 1, customId: 'c', type, result: null })).error;
    expect(error('expired').code).toBe('batch_expired');
    expect(error('canceled').code).toBe('batch_cancelled');
    expect(error('errored')).toEqual({ code: 'server_error', message: expect.stringContaining('could not be processed') });
  });
});
