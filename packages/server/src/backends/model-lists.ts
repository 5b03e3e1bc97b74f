import { request } from 'undici';
import { isObject } from '../json.js';
import type { BackendSpec } from './backend-spec.js';

/** A model a backend's upstream lists. */
export interface UpstreamModel {
  id: string;
  /** When the upstream says the model was made, in seconds since the epoch. */
  created?: number;
  displayName?: string;
}

/** Most bytes of one list answer read; a longer one fails the list. */
const MAX_LIST_BYTES = 4 * 1024 * 1024;
/** Most pages of the Anthropic API's list read, of 1,000 models each. */
const MAX_PAGES = 10;
const LIST_TIMEOUT_MS = 10_000;

/** One page of a list: GET `url` with `headers`, the JSON object it answers (never its text in an error: it may echo the key). */
async function getList(url: string, headers: Record<string, string>, signal: AbortSignal): Promise<Record<string, unknown>> {
  const response = await request(url, { method: 'GET', headers, signal, headersTimeout: LIST_TIMEOUT_MS, bodyTimeout: LIST_TIMEOUT_MS });
  if (response.statusCode < 200 || response.statusCode >= 300) {
    await response.body.dump();
    throw new Error(`the model list answered HTTP ${response.statusCode}`);
  }
  const chunks: Buffer[] = [];
  let bytes = 0;
  for await (const chunk of response.body as AsyncIterable<Buffer>) {
    bytes += chunk.length;
    // Leaving the loop lets the rest of the body go.
    if (bytes > MAX_LIST_BYTES) throw new Error(`the model list passed ${MAX_LIST_BYTES} bytes`);
    chunks.push(chunk);
  }
  const value: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  if (!isObject(value) || !Array.isArray(value.data)) throw new Error('the model list is not a list');
  return value;
}

/** The Anthropic API's models (`GET /v1/models`, paged by `after_id`). */
async function anthropicModels(url: string, apiKey: string | undefined, signal: AbortSignal): Promise<UpstreamModel[]> {
  const headers: Record<string, string> = { 'anthropic-version': '2023-06-01', ...(apiKey ? { 'x-api-key': apiKey } : {}) };
  const models: UpstreamModel[] = [];
  let after: string | undefined;
  for (let page = 0; page < MAX_PAGES; page++) {
    const query = `?limit=1000${after === undefined ? '' : `&after_id=${encodeURIComponent(after)}`}`;
    const list = await getList(`${url.replace(/\/$/, '')}/v1/models${query}`, headers, signal);
    for (const item of list.data as unknown[]) {
      if (!isObject(item) || typeof item.id !== 'string') continue;
      const created = typeof item.created_at === 'string' ? Date.parse(item.created_at) : Number.NaN;
      models.push({ id: item.id, displayName: typeof item.display_name === 'string' ? item.display_name : undefined, created: Number.isFinite(created) ? Math.floor(created / 1000) : undefined });
    }
    if (list.has_more !== true || typeof list.last_id !== 'string') break;
    after = list.last_id;
  }
  return models;
}

/** An OpenAI-compatible server's models (`GET {url}/models`), named as batchd's clients name them: through `modelMap` backwards. */
async function openAIModels(url: string, apiKey: string | undefined, modelMap: Record<string, string>, signal: AbortSignal): Promise<UpstreamModel[]> {
  const list = await getList(`${url.replace(/\/$/, '')}/models`, apiKey ? { authorization: `Bearer ${apiKey}` } : {}, signal);
  const mappedTo = new Map<string, string[]>();
  for (const [name, upstream] of Object.entries(modelMap)) mappedTo.set(upstream, [...(mappedTo.get(upstream) ?? []), name]);
  return (list.data as unknown[]).flatMap((item) => {
    if (!isObject(item) || typeof item.id !== 'string') return [];
    const created = typeof item.created === 'number' && Number.isFinite(item.created) ? item.created : undefined;
    return [item.id, ...(mappedTo.get(item.id) ?? [])].map((id) => ({ id, created }));
  });
}

/**
 * The models `spec`'s upstream lists: the Anthropic API's for `anthropic` and `anthropic-batch`,
 * an OpenAI-compatible server's (the first replica's) for `openai` and `openai-batch`, none for
 * the emulator. Throws when the upstream cannot be asked or answers something else than a list.
 */
export async function upstreamModels(spec: BackendSpec, signal: AbortSignal): Promise<UpstreamModel[]> {
  const url = spec.url ?? spec.urls?.[0];
  if (url === undefined || spec.type === 'emulator') return [];
  if (spec.type === 'anthropic' || spec.type === 'anthropic-batch') return anthropicModels(url, spec.apiKey, signal);
  return openAIModels(url, spec.apiKey, spec.modelMap ?? {}, signal);
}
