import { describe, expect, it } from 'vitest';
import { providerTimeline } from './provider-timeline.js';

const T = 1_000_000;

describe('providerTimeline', () => {
  it('counts the provider handling the create as its processing, not as time batchd added', () => {
    const timeline = providerTimeline({
      sent: T,
      acknowledged: T + 2000,
      intent: T + 2300,
      ended: T + 12_000,
      batches: [{ id: 'b1', createdAt: T + 2900, endedAt: T + 7900 }],
      calls: [
        { method: 'POST', path: '/v1/messages/batches', at: T + 2500, answeredAt: T + 3000 },
        { method: 'GET', path: '/v1/messages/batches/b1', at: T + 7000, answeredAt: T + 7010 },
        { method: 'GET', path: '/v1/messages/batches/b1', at: T + 9000, answeredAt: T + 9010 },
        { method: 'GET', path: '/v1/messages/batches/b1/results', at: T + 9020, answeredAt: T + 11_000 },
      ],
    });
    expect(timeline).toEqual({
      upload: 2,
      routing: 0.3,
      submit: 0.7,
      providerCreate: 0.5,
      provider: 5,
      pollLag: 1.11,
      download: 1.99,
      writeTail: 1,
      added: 10 - 5 - 0.5,
    });
  });

  it("starts each phase at the create's answer: an intent the create wrote takes no routing time, and earlier provider work is not left out", () => {
    const timeline = providerTimeline({
      sent: T,
      acknowledged: T + 2000,
      intent: T + 1900,
      ended: T + 12_000,
      batches: [{ id: 'b1', createdAt: T + 1950, endedAt: T + 7000 }],
      calls: [
        { method: 'POST', path: '/v1/messages/batches', at: T + 1920, answeredAt: T + 2200 },
        { method: 'GET', path: '/v1/messages/batches/b1', at: T + 9000, answeredAt: T + 9010 },
        { method: 'GET', path: '/v1/messages/batches/b1/results', at: T + 9020, answeredAt: T + 11_000 },
      ],
    });
    expect(timeline).toMatchObject({ routing: 0, submit: 0.2, providerCreate: 0.2, provider: 5, added: 10 - 5 - 0.2 });
  });
});
