import { describe, expect, it } from 'vitest';
import { expectSchema, schemaErrors, toJsonSchema } from '../test-support/api/openapi.js';

const batch = {
  id: 'msgbatch_013Zva2CMHLNnXjNJJKqJ2EF',
  type: 'message_batch',
  processing_status: 'in_progress',
  request_counts: { processing: 2, succeeded: 0, errored: 0, canceled: 0, expired: 0 },
  ended_at: null,
  created_at: '2024-09-24T18:37:24.100435Z',
  expires_at: '2024-09-25T18:37:24.100435Z',
  archived_at: null,
  cancel_initiated_at: null,
  results_url: null,
};

const message = {
  id: 'msg_013Zva2CMHLNnXjNJJKqJ2EF',
  type: 'message',
  role: 'assistant',
  content: [{ type: 'text', text: 'Hi! My name is Claude.', citations: null }],
  model: 'claude-sonnet-4-5',
  stop_reason: 'end_turn',
  stop_sequence: null,
  stop_details: null,
  container: null,
  usage: {
    input_tokens: 10,
    output_tokens: 5,
    cache_creation_input_tokens: 0,
    cache_read_input_tokens: 0,
    cache_creation: { ephemeral_5m_input_tokens: 0, ephemeral_1h_input_tokens: 0 },
    server_tool_use: null,
    service_tier: 'batch',
    inference_geo: null,
  },
};

describe('expectSchema (OpenAPI fixture validator)', () => {
  it('accepts a valid MessageBatch and returns it', () => {
    expect(expectSchema('MessageBatch', batch)).toBe(batch);
    expect(schemaErrors('MessageBatch', batch)).toEqual([]);
  });

  it('rejects a MessageBatch with a wrong status, a missing key and a non-null-able null', () => {
    const { archived_at: _omitted, ...withoutArchivedAt } = batch;
    const bad = { ...withoutArchivedAt, processing_status: 'done', created_at: null };
    const errors = schemaErrors('MessageBatch', bad);
    expect(errors.join('\n')).toMatch(/archived_at/);
    expect(errors.join('\n')).toMatch(/\/processing_status/);
    expect(errors.join('\n')).toMatch(/\/created_at/);
    expect(() => expectSchema('MessageBatch', bad)).toThrow(/does not match schema MessageBatch/);
  });

  it('rejects timestamps that are not RFC 3339', () => {
    expect(schemaErrors('MessageBatch', { ...batch, created_at: 'yesterday' }).join('\n')).toMatch(/date-time/);
  });

  it('tells result variants apart through the discriminator', () => {
    expectSchema('MessageBatchIndividualResponse', { custom_id: 'a', result: { type: 'succeeded', message } });
    expectSchema('MessageBatchIndividualResponse', {
      custom_id: 'b',
      result: {
        type: 'errored',
        error: { type: 'error', error: { type: 'invalid_request_error', message: 'max_tokens: required' }, request_id: null },
      },
    });
    // batchd's errored results also carry the message beside the envelope's fields.
    expectSchema('MessageBatchIndividualResponse', {
      custom_id: 'b2',
      result: {
        type: 'errored',
        error: { type: 'error', error: { type: 'api_error', message: 'down' }, request_id: null, message: 'down' },
      },
    });
    expectSchema('MessageBatchIndividualResponse', { custom_id: 'c', result: { type: 'canceled' } });
    expectSchema('MessageBatchIndividualResponse', { custom_id: 'd', result: { type: 'expired' } });
    expect(schemaErrors('MessageBatchIndividualResponse', { custom_id: 'e', result: { type: 'vanished' } })).not.toEqual([]);
    const { usage: _usage, ...withoutUsage } = message;
    const errors = schemaErrors('MessageBatchIndividualResponse', {
      custom_id: 'f',
      result: { type: 'succeeded', message: withoutUsage },
    });
    expect(errors.join('\n')).toMatch(/usage/);
  });

  it('checks error envelopes, including their error type', () => {
    expectSchema('ErrorResponse', { type: 'error', error: { type: 'not_found_error', message: 'x' }, request_id: 'req_1' });
    expect(schemaErrors('ErrorResponse', { type: 'error', error: { type: 'nope', message: 'x' }, request_id: 'req_1' })).not.toEqual([]);
    expect(schemaErrors('ErrorResponse', { type: 'error', error: { type: 'api_error', message: 'x' } })).not.toEqual([]);
    expectSchema('BatchdRequestTooLargeResponse', {
      type: 'error',
      error: { type: 'request_too_large', message: 'too big' },
      request_id: 'req_1',
    });
  });

  it('throws for a schema name the fixture lacks', () => {
    expect(() => expectSchema('NoSuchSchema', {})).toThrow(/no schema named NoSuchSchema/);
  });

  it('turns OpenAPI 3.0 nullable into JSON Schema null unions and drops vendor keys', () => {
    expect(toJsonSchema({ type: 'string', nullable: true, 'x-stainless-nominal': false })).toEqual({ type: ['string', 'null'] });
    expect(toJsonSchema({ $ref: '#/components/schemas/Usage', nullable: true })).toEqual({
      anyOf: [{ $ref: '#/$defs/Usage' }, { type: 'null' }],
    });
    expect(toJsonSchema({ enum: ['a', 'b'], nullable: true })).toEqual({ anyOf: [{ enum: ['a', 'b'] }, { type: 'null' }] });
    expect(toJsonSchema({ type: 'object', properties: { nullable: { type: 'boolean' } } })).toEqual({
      type: 'object',
      properties: { nullable: { type: 'boolean' } },
    });
  });
});
