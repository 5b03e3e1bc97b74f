/**
 * One JSONL results line. `custom_id` matches `^[a-zA-Z0-9_-]{1,64}$`, so it needs no escaping;
 * a stored result is compact JSON text and is copied as it is.
 */
export function resultLine(customId: string, type: string | null, result: string | null): string {
  const body = result ?? `{"type":"${type}"}`;
  return `{"custom_id":"${customId}","result":${body}}\n`;
}
