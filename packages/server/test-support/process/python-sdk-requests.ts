import { Agent, request as httpRequest } from 'node:http';
import type { ApiResponse } from '../api/api.js';

/**
 * Requests exactly as the official Python SDKs send them (recorded from `anthropic` 1.13 and
 * `openai` 3.22): their headers, `Content-Type: application/json` on every POST and DELETE, an
 * empty body with `Content-Length: 0` on body-less POSTs and no length at all on DELETEs, and
 * `Accept: application/binary` for results and file content.
 */

export type PythonSdk = 'anthropic' | 'openai';

/** How an empty body is framed: as the SDKs do it, or chunked with no chunks (what proxies may make of it). */
export type EmptyFraming = 'as-sent' | 'chunked';

export interface PythonRequestOptions {
  /** A JSON body; without one, a POST or DELETE goes with an empty body. */
  json?: unknown;
  /** `Accept: application/binary`, as `results()` and `files.content()` send it. */
  binary?: boolean;
  framing?: EmptyFraming;
}

const PYTHON_RUNTIME = { 'x-stainless-os': 'Linux', 'x-stainless-arch': 'x64', 'x-stainless-runtime': 'CPython', 'x-stainless-runtime-version': '3.11.7' };

function sdkHeaders(sdk: PythonSdk, apiKey: string): Record<string, string> {
  const common = { 'accept-encoding': 'gzip, deflate', connection: 'keep-alive', 'x-stainless-lang': 'python', 'x-stainless-async': 'false', 'x-stainless-retry-count': '0', 'x-stainless-read-timeout': '600', ...PYTHON_RUNTIME };
  if (sdk === 'anthropic') {
    return { ...common, 'x-stainless-timeout': 'NOT_GIVEN', 'user-agent': 'Anthropic/Python 1.13.0', 'x-stainless-package-version': '1.13.0', 'x-api-key': apiKey, 'anthropic-version': '2023-06-01' };
  }
  return { ...common, 'user-agent': 'OpenAI/Python 3.22.1', 'x-stainless-package-version': '3.22.1', authorization: `Bearer ${apiKey}` };
}

const agent = new Agent({ keepAlive: true });

/** Sends one request the way `sdk` does and reads the whole answer. */
export function pythonRequest(baseUrl: string, sdk: PythonSdk, method: string, path: string, options: PythonRequestOptions = {}): Promise<ApiResponse> {
  const headers = sdkHeaders(sdk, 'python-key');
  headers.accept = options.binary ? 'application/binary' : 'application/json';
  const body = options.json === undefined ? '' : JSON.stringify(options.json);
  if (method === 'POST' || method === 'DELETE') headers['content-type'] = 'application/json';
  if (options.framing === 'chunked' && body === '') headers['transfer-encoding'] = 'chunked';
  else if (method === 'POST') headers['content-length'] = String(Buffer.byteLength(body));
  return new Promise((resolve, reject) => {
    const outgoing = httpRequest(`${baseUrl}${path}`, { method, headers, agent }, (incoming) => {
      const chunks: Buffer[] = [];
      incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
      incoming.on('error', reject);
      incoming.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        const received = new Headers();
        for (const [name, value] of Object.entries(incoming.headers)) if (typeof value === 'string') received.set(name, value);
        let parsed: unknown;
        try {
          parsed = JSON.parse(text);
        } catch {
          parsed = undefined;
        }
        resolve({ status: incoming.statusCode ?? 0, headers: received, requestId: received.get('request-id'), contentType: received.get('content-type'), text, body: parsed });
      });
    });
    outgoing.on('error', reject);
    outgoing.end(body);
  });
}
