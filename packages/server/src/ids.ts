import { randomBytes } from 'node:crypto';

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const TIME_DIGITS = 8;
const RANDOM_DIGITS = 14;

function encodeBase62(value: number, width: number): string {
  let out = '';
  for (let i = 0; i < width; i++) {
    out = BASE62[value % 62] + out;
    value = Math.floor(value / 62);
  }
  return out;
}

function randomBase62(width: number): string {
  const bytes = randomBytes(width);
  let out = '';
  for (const byte of bytes) out += BASE62[byte % 62];
  return out;
}

/** Adds one to a base62 string, keeping its width (wraps on overflow, which 62^14 makes moot). */
function incrementBase62(digits: string): string {
  const chars = digits.split('');
  for (let i = chars.length - 1; i >= 0; i--) {
    const index = BASE62.indexOf(chars[i]!);
    if (index < 61) {
      chars[i] = BASE62[index + 1]!;
      return chars.join('');
    }
    chars[i] = '0';
  }
  return chars.join('');
}

/**
 * Makes ids that sort by creation time, byte for byte: a prefix (`msgbatch_01` for message
 * batches) + 8 base62 digits of milliseconds + 14 random base62 digits, incremented instead of
 * redrawn within one millisecond so that ids from one process are strictly increasing. List
 * pagination relies on this order.
 */
export class BatchIdGenerator {
  private lastTime = -1;
  private lastRandom = '';

  constructor(private readonly prefix = 'msgbatch_01') {}

  next(nowMs: number): string {
    if (nowMs <= this.lastTime) {
      this.lastRandom = incrementBase62(this.lastRandom);
    } else {
      this.lastTime = nowMs;
      this.lastRandom = randomBase62(RANDOM_DIGITS);
    }
    return `${this.prefix}${encodeBase62(this.lastTime, TIME_DIGITS)}${this.lastRandom}`;
  }
}

/** A request id for the `request-id` header and error envelopes. */
export function newRequestId(): string {
  return `req_01${randomBase62(22)}`;
}

/** Ids of processes that hold leases on requests. */
export function newOwnerId(): string {
  return `node_${randomBase62(12)}`;
}

/** A new API key: `bk_` and 40 random base62 characters (about 238 bits). */
export function newApiKey(): string {
  return `bk_${randomBase62(40)}`;
}

/** Ids of API keys, shown in listings and used to revoke them. */
export function newKeyId(): string {
  return `key_${randomBase62(16)}`;
}

/** Ids of webhook endpoints. */
export function newWebhookEndpointId(): string {
  return `whep_${randomBase62(24)}`;
}

/** Ids of webhook deliveries, sent as `webhook-id` (the same on every attempt, so receivers can deduplicate). */
export function newWebhookEventId(): string {
  return `evt_${randomBase62(24)}`;
}

/** A webhook signing secret: `whsec_` and the base64 of 32 random bytes. */
export function newWebhookSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}
