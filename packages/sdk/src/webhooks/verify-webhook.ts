import { BatchdError } from '../core/error.js';
import type { WebhookEvent } from '../webhook-types.js';

/** The request headers of a webhook: a `Headers`, or a plain object as Node's `IncomingMessage` has. */
export type WebhookHeaders = Headers | Record<string, string | string[] | undefined>;

export interface VerifyWebhookOptions {
  /** How far `webhook-timestamp` may be from now, in seconds, either way. Default 300. */
  toleranceSeconds?: number;
  /** The current time in milliseconds since the epoch. Defaults to `Date.now()`. */
  now?: () => number;
}

/** A webhook failed verification: a header is missing, its timestamp is out of tolerance, or no signature matches. */
export class WebhookVerificationError extends BatchdError {}

const encoder = new TextEncoder();

function header(headers: WebhookHeaders, name: string): string {
  let value: string | string[] | null | undefined;
  // Duck-typed: a `Headers` from another fetch implementation is not an instance of the global one.
  if (typeof headers.get === 'function') value = (headers as Headers).get(name);
  else value = Object.entries(headers).find(([key]) => key.toLowerCase() === name)?.[1];
  const text = Array.isArray(value) ? value.join(' ') : value;
  if (text === undefined || text === null || text === '') throw new WebhookVerificationError(`Missing the ${name} header.`);
  return text;
}

function decodeBase64(text: string): Uint8Array<ArrayBuffer> | null {
  try {
    return Uint8Array.from(atob(text), (char) => char.charCodeAt(0));
  } catch {
    return null;
  }
}

/** Compares in time that depends only on the lengths, never on where the bytes differ. */
function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let difference = 0;
  for (let i = 0; i < a.length; i++) difference |= a[i]! ^ b[i]!;
  return difference === 0;
}

/**
 * Checks a webhook batchd sent (the Standard Webhooks scheme) and returns its parsed event.
 * `payload` is the raw request body as received, before any JSON parsing; `secret` the
 * endpoint's `whsec_…` secret. Throws `WebhookVerificationError` when the `webhook-id`,
 * `webhook-timestamp` or `webhook-signature` header is missing, when the timestamp is more than
 * `toleranceSeconds` from now, or when none of the space-separated `v1,` signatures is the
 * HMAC-SHA256 of `${id}.${timestamp}.${payload}`. Uses Web Crypto, so it runs in Node 20+ and browsers.
 */
export async function verifyWebhook(
  payload: string,
  headers: WebhookHeaders,
  secret: string,
  options: VerifyWebhookOptions = {},
): Promise<WebhookEvent> {
  const id = header(headers, 'webhook-id');
  const timestamp = header(headers, 'webhook-timestamp');
  const signatures = header(headers, 'webhook-signature');
  if (!/^\d{1,15}$/.test(timestamp)) throw new WebhookVerificationError(`webhook-timestamp must be whole seconds since the epoch, got ${JSON.stringify(timestamp)}.`);
  const tolerance = options.toleranceSeconds ?? 300;
  const skew = Math.floor((options.now ?? Date.now)() / 1000) - Number(timestamp);
  if (skew > tolerance) throw new WebhookVerificationError(`The webhook timestamp is ${skew} s old, more than the ${tolerance} s allowed.`);
  if (-skew > tolerance) throw new WebhookVerificationError(`The webhook timestamp is ${-skew} s in the future, more than the ${tolerance} s allowed.`);

  const keyBytes = decodeBase64(secret.startsWith('whsec_') ? secret.slice('whsec_'.length) : secret);
  if (keyBytes === null || keyBytes.length === 0) throw new WebhookVerificationError('The secret is not a whsec_ secret (base64 after the prefix).');
  const key = await globalThis.crypto.subtle.importKey('raw', keyBytes, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  const expected = new Uint8Array(await globalThis.crypto.subtle.sign('HMAC', key, encoder.encode(`${id}.${timestamp}.${payload}`)));

  let matched = false;
  for (const entry of signatures.split(' ')) {
    const [version, signature] = entry.split(',', 2);
    if (version !== 'v1' || signature === undefined) continue;
    const given = decodeBase64(signature);
    if (given !== null && equalBytes(given, expected)) matched = true;
  }
  if (!matched) throw new WebhookVerificationError('No v1 signature in webhook-signature matches the payload and secret.');
  try {
    return JSON.parse(payload) as WebhookEvent;
  } catch (cause) {
    throw new WebhookVerificationError('The signed payload is not JSON.', { cause });
  }
}
