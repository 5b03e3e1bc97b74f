/**
 * A thin `fetch` wrapper for raw requests to batchd: sends an API key and `anthropic-version`
 * unless told otherwise, and hands back the status, the headers and the parsed body.
 */

export interface ApiResponse<T = any> {
  status: number;
  headers: Headers;
  /** The `request-id` header. */
  requestId: string | null;
  contentType: string | null;
  /** The raw body text. */
  text: string;
  /** The body parsed as JSON, or `undefined` when it is not JSON. */
  body: T;
}

export interface RequestOptions {
  /** A JSON value to send as the body (serialised here). */
  json?: unknown;
  /** A raw body, sent as is (with `content-type: application/json` unless headers say otherwise). */
  body?: string | Uint8Array;
  /** Extra headers; a `null` value removes a default header. */
  headers?: Record<string, string | null>;
}

export interface Api {
  request<T = any>(method: string, path: string, options?: RequestOptions): Promise<ApiResponse<T>>;
  get<T = any>(path: string, options?: RequestOptions): Promise<ApiResponse<T>>;
  post<T = any>(path: string, json?: unknown, options?: RequestOptions): Promise<ApiResponse<T>>;
  delete<T = any>(path: string, options?: RequestOptions): Promise<ApiResponse<T>>;
}

export const TEST_API_KEY = 'test-key';

export function api(baseUrl: string): Api {
  const base = baseUrl.replace(/\/+$/, '');
  async function request<T>(method: string, path: string, options: RequestOptions = {}): Promise<ApiResponse<T>> {
    const headers: Record<string, string> = { 'x-api-key': TEST_API_KEY, 'anthropic-version': '2023-06-01' };
    let body: string | Uint8Array | undefined;
    if (options.json !== undefined) body = JSON.stringify(options.json);
    else if (options.body !== undefined) body = options.body;
    if (body !== undefined) headers['content-type'] = 'application/json';
    for (const [name, value] of Object.entries(options.headers ?? {})) {
      const key = name.toLowerCase();
      if (value === null) delete headers[key];
      else headers[key] = value;
    }
    const url = /^https?:\/\//.test(path) ? path : `${base}${path.startsWith('/') ? '' : '/'}${path}`;
    const response = await fetch(url, { method, headers, body });
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = text.length > 0 ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    return {
      status: response.status,
      headers: response.headers,
      requestId: response.headers.get('request-id'),
      contentType: response.headers.get('content-type'),
      text,
      body: parsed as T,
    };
  }
  return {
    request,
    get: (path, options) => request('GET', path, options),
    post: (path, json, options) => request('POST', path, { ...options, json: json ?? options?.json }),
    delete: (path, options) => request('DELETE', path, options),
  };
}
