import { connect } from 'node:net';

/** An answer read off the socket: status, lower-cased headers, and the body (de-chunked). */
export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

function dechunk(raw: string): string {
  let body = '';
  let rest = raw;
  for (;;) {
    const lineEnd = rest.indexOf('\r\n');
    const size = parseInt(rest.slice(0, lineEnd), 16);
    if (lineEnd < 0 || !(size > 0)) return body;
    body += rest.slice(lineEnd + 2, lineEnd + 2 + size);
    rest = rest.slice(lineEnd + 2 + size + 2);
  }
}

/**
 * Sends one request exactly as written, request target included (absolute-form, `..`, escapes a
 * client library would normalise), over a raw socket to `baseUrl`'s host and port, with
 * `Connection: close`, and reads the whole answer.
 */
export function rawRequest(baseUrl: string, method: string, target: string, headers: Record<string, string> = {}, body = ''): Promise<RawResponse> {
  const { hostname, port } = new URL(baseUrl);
  const lines = [`${method} ${target} HTTP/1.1`, ...Object.entries({ host: `${hostname}:${port}`, ...headers }).map(([name, value]) => `${name}: ${value}`)];
  if (body !== '' || method === 'POST') lines.push(`content-length: ${Buffer.byteLength(body)}`);
  lines.push('connection: close');
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname.replace(/^\[|\]$/g, ''));
    const chunks: Buffer[] = [];
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('close', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const headEnd = text.indexOf('\r\n\r\n');
      const [statusLine = '', ...headerLines] = text.slice(0, headEnd).split('\r\n');
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1] ?? NaN);
      const parsed: Record<string, string> = {};
      for (const line of headerLines) {
        const colon = line.indexOf(':');
        parsed[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
      }
      const raw = text.slice(headEnd + 4);
      resolve({ status, headers: parsed, body: parsed['transfer-encoding'] === 'chunked' ? dechunk(raw) : raw });
    });
    socket.write(`${lines.join('\r\n')}\r\n\r\n${body}`);
  });
}

/** The kind of error an envelope names (OpenAI's `error.code` when set, else `error.type`), or the body's start when it is not one. */
export function errorType(response: RawResponse): string {
  try {
    const { error } = JSON.parse(response.body) as { error: { type: string; code?: string | null } };
    return error.code ?? error.type;
  } catch {
    return response.body.slice(0, 80);
  }
}
