import { createHmac, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { verifyWebhook, WebhookVerificationError } from './verify-webhook.js';

/** Signatures computed here with node:crypto, independently of the Web Crypto code under test. */
function sign(secret: string, id: string, timestamp: number, body: string): string {
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
  return `v1,${createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64')}`;
}

const NOW_MS = 1_800_000_000_000;
const NOW = NOW_MS / 1000;
const now = () => NOW_MS;
const secret = `whsec_${randomBytes(32).toString('base64')}`;
const body = JSON.stringify({ type: 'batch.ended', timestamp: '2027-01-15T08:00:00.000000Z', data: { id: 'msgbatch_01x', processing_status: 'ended' } });
const id = 'evt_01KnownAnswer';
const headersAt = (timestamp: number, signature = sign(secret, id, timestamp, body)) => ({
  'webhook-id': id,
  'webhook-timestamp': String(timestamp),
  'webhook-signature': signature,
});

describe('verifyWebhook', () => {
  it('accepts the Standard Webhooks example (known answer) and returns the parsed event', async () => {
    // The example secret, message and signature published with the Standard Webhooks specification.
    const example = '{"test": 2432232314}';
    const exampleHeaders = new Headers({
      'webhook-id': 'msg_p5jXN8AQM9LWM0D4loKWxJek',
      'webhook-timestamp': '1614265330',
      'webhook-signature': 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
    });
    const exampleSecret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
    expect(sign(exampleSecret, 'msg_p5jXN8AQM9LWM0D4loKWxJek', 1614265330, example)).toBe('v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=');
    await expect(verifyWebhook(example, exampleHeaders, exampleSecret, { now: () => 1614265330_000 })).resolves.toEqual({ test: 2432232314 });
  });

  it('accepts a body signed with node:crypto, from a plain header object in any case', async () => {
    const headers = Object.fromEntries(Object.entries(headersAt(NOW)).map(([key, value]) => [key.toUpperCase(), value]));
    const event = await verifyWebhook(body, headers, secret, { now });
    expect(event).toEqual(JSON.parse(body));
  });

  it('accepts any matching v1 signature among several, and ignores other versions', async () => {
    const good = sign(secret, id, NOW, body);
    const other = sign(`whsec_${randomBytes(32).toString('base64')}`, id, NOW, body);
    await expect(verifyWebhook(body, headersAt(NOW, `${other} v2,${good.slice(3)} ${good}`), secret, { now })).resolves.toBeTruthy();
    await expect(verifyWebhook(body, headersAt(NOW, `v2,${good.slice(3)}`), secret, { now })).rejects.toThrow(WebhookVerificationError);
  });

  it('rejects a changed body, id, timestamp or secret', async () => {
    const headers = headersAt(NOW);
    await expect(verifyWebhook(body.replace('ended', 'endeD'), headers, secret, { now })).rejects.toThrow(/No v1 signature/);
    await expect(verifyWebhook(body, { ...headers, 'webhook-id': 'evt_other' }, secret, { now })).rejects.toThrow(/No v1 signature/);
    await expect(verifyWebhook(body, { ...headers, 'webhook-timestamp': String(NOW - 1) }, secret, { now })).rejects.toThrow(/No v1 signature/);
    const wrong = `whsec_${randomBytes(32).toString('base64')}`;
    await expect(verifyWebhook(body, headers, wrong, { now })).rejects.toThrow(WebhookVerificationError);
  });

  it('rejects timestamps outside the tolerance either way, and honours a custom tolerance', async () => {
    await expect(verifyWebhook(body, headersAt(NOW - 301), secret, { now })).rejects.toThrow('301 s old');
    await expect(verifyWebhook(body, headersAt(NOW + 301), secret, { now })).rejects.toThrow('301 s in the future');
    await expect(verifyWebhook(body, headersAt(NOW - 300), secret, { now })).resolves.toBeTruthy();
    await expect(verifyWebhook(body, headersAt(NOW - 301), secret, { now, toleranceSeconds: 600 })).resolves.toBeTruthy();
  });

  it('names the missing or malformed header', async () => {
    const { 'webhook-signature': _signature, ...unsigned } = headersAt(NOW);
    await expect(verifyWebhook(body, unsigned, secret, { now })).rejects.toThrow('Missing the webhook-signature header.');
    await expect(verifyWebhook(body, { ...headersAt(NOW), 'webhook-timestamp': '17e8' }, secret, { now })).rejects.toThrow('whole seconds');
    await expect(verifyWebhook(body, headersAt(NOW, 'v1,not base64!'), secret, { now })).rejects.toThrow(/No v1 signature/);
    await expect(verifyWebhook(body, headersAt(NOW), 'whsec_', { now })).rejects.toThrow('not a whsec_ secret');
  });
});
