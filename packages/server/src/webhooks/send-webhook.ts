import type { ClaimedDelivery } from '../store/webhook-store.js';
import { signWebhook } from './signature.js';

/** The `fetch` webhooks are sent with; Node's global `fetch` fits. */
export type Fetch = (input: string, init: RequestInit) => Promise<Response>;

export interface AttemptOutcome {
  /** The receiver's HTTP status; null when no answer arrived. */
  status: number | null;
  /** Why the attempt did not deliver; null when it did. */
  error: string | null;
}

const USER_AGENT = 'batchd-webhooks/1';

/**
 * POSTs one delivery, signed for this attempt's time. A 2xx answer within `timeoutMs` delivers
 * it; any other answer (redirects are not followed), a failed connection or no answer in time
 * does not. `signal` abandons the attempt (when the process stops).
 */
export async function sendWebhook(
  fetch: Fetch,
  delivery: ClaimedDelivery,
  nowMs: number,
  timeoutMs: number,
  signal: AbortSignal,
): Promise<AttemptOutcome> {
  const timestamp = Math.floor(nowMs / 1000);
  const timeout = AbortSignal.timeout(timeoutMs);
  try {
    const response = await fetch(delivery.url, {
      method: 'POST',
      redirect: 'manual',
      signal: AbortSignal.any([signal, timeout]),
      headers: {
        'content-type': 'application/json',
        'user-agent': USER_AGENT,
        'webhook-id': delivery.id,
        'webhook-timestamp': String(timestamp),
        'webhook-signature': signWebhook(delivery.secret, delivery.id, timestamp, delivery.payload),
      },
      body: delivery.payload,
    });
    await response.body?.cancel().catch(() => undefined);
    const ok = response.status >= 200 && response.status < 300;
    return { status: response.status, error: ok ? null : `the receiver answered HTTP ${response.status}` };
  } catch (error) {
    if (timeout.aborted && !signal.aborted) return { status: null, error: `no answer within ${timeoutMs} ms` };
    return { status: null, error: `connection failed: ${describeCause(error)}` };
  }
}

function describeCause(error: unknown): string {
  let current: unknown = error;
  while (current instanceof Error && current.cause !== undefined) current = current.cause;
  if (current instanceof Error) return (current as NodeJS.ErrnoException).code ?? current.message;
  return String(current);
}
