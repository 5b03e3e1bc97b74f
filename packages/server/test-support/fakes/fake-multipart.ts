/** One part of a `multipart/form-data` body. */
export interface FormPart {
  name: string;
  filename?: string;
  content: Buffer;
}

/**
 * The parts of a whole `multipart/form-data` body, for the fakes (which read bodies whole);
 * undefined when `contentType` names no boundary or the body is not well formed.
 */
export function parseMultipart(contentType: string | undefined, body: Buffer): FormPart[] | undefined {
  const boundary = /boundary="?([^";]+)"?/i.exec(contentType ?? '')?.[1];
  if (boundary === undefined) return undefined;
  const delimiter = Buffer.from(`--${boundary}`);
  const parts: FormPart[] = [];
  let at = body.indexOf(delimiter);
  while (at !== -1) {
    const start = at + delimiter.length;
    if (body.subarray(start, start + 2).toString() === '--') return parts;
    const next = body.indexOf(delimiter, start);
    if (next === -1) return undefined;
    const part = body.subarray(start + 2, next - 2);
    const split = part.indexOf('\r\n\r\n');
    if (split === -1) return undefined;
    const headers = part.subarray(0, split).toString('utf8');
    const name = /(?:^|[;\s])name="([^"]*)"/i.exec(headers)?.[1];
    if (name === undefined) return undefined;
    parts.push({ name, filename: /filename="([^"]*)"/i.exec(headers)?.[1], content: part.subarray(split + 4) });
    at = next;
  }
  return undefined;
}
