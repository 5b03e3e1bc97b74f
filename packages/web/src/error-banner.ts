import { APIError, APIUserAbortError, AuthenticationError } from '@batchd/sdk';
import { h } from './dom.js';

/** True for the error an aborted request throws when its page was left. */
export function isAbort(error: unknown): boolean {
  return error instanceof APIUserAbortError || (error instanceof DOMException && error.name === 'AbortError');
}

/** A sentence describing a failed call, with the API's error type and request id when there is one. */
function describeError(error: unknown): string {
  if (error instanceof APIError) {
    const type = error.type ?? (error.status === undefined ? 'connection error' : `HTTP ${error.status}`);
    const message = error.error?.error?.message ?? error.message;
    return `${type}: ${message}${error.requestID ? ` (request ${error.requestID})` : ''}`;
  }
  return error instanceof Error ? error.message : String(error);
}

/** An alert for a failed call; a rejected key links to the key page. */
export function errorBanner(error: unknown): HTMLElement {
  const banner = h('div', { class: 'banner banner-error', role: 'alert' }, describeError(error));
  if (error instanceof AuthenticationError) {
    banner.append(' ', h('a', { href: '#/key' }, 'Check the API key'));
  }
  return banner;
}
