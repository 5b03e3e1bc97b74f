import { BatchdClient } from '@batchd/sdk';

const STORAGE_KEY = 'batchd.apiKey';

/** The API key entered in this browser, if any. */
export function storedApiKey(): string | null {
  const key = localStorage.getItem(STORAGE_KEY);
  return key && key.trim() !== '' ? key : null;
}

export function saveApiKey(key: string): void {
  localStorage.setItem(STORAGE_KEY, key.trim());
}

export function forgetApiKey(): void {
  localStorage.removeItem(STORAGE_KEY);
}

let cached: { key: string; client: BatchdClient } | undefined;

/**
 * The client every page calls the API with: the server that served the dashboard, with the
 * stored key. Callers check `storedApiKey()` first.
 */
export function apiClient(): BatchdClient {
  const key = storedApiKey();
  if (key === null) throw new Error('No API key has been entered.');
  if (cached?.key !== key) cached = { key, client: new BatchdClient({ apiKey: key, baseURL: location.origin, maxRetries: 1 }) };
  return cached.client;
}
