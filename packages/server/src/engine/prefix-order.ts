import { isObject } from '../json.js';
import type { Dialect, NewRequest } from '../store/store.js';
import { storedPrefix } from '../translate/prefix-key.js';
import type { Lanes } from './lanes.js';

/**
 * Params longer than this get no prefix key: a create parses at most this much at once for keys,
 * as it does for the rest of its body, and never builds a large object for them.
 */
const MAX_KEYED_PARAMS_CHARS = 1024 * 1024;

/**
 * The prefix key a request is stored with: the one its model's lane groups it by, if that lane is
 * cache-aware. When every such lane groups by `cache_control` breakpoints only, params without
 * one are not parsed.
 */
function storedPrefixKey(params: string | string[], lanes: Lanes, dialect: Dialect, breakpointsOnly: boolean): string | undefined {
  if (typeof params !== 'string' || params.length > MAX_KEYED_PARAMS_CHARS || (breakpointsOnly && !params.includes('"cache_control"'))) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(params);
  } catch {
    return undefined;
  }
  if (!isObject(parsed) || typeof parsed.model !== 'string') return undefined;
  const prefix = lanes.for(parsed.model)?.prefixOf(parsed, dialect);
  return prefix && storedPrefix(prefix);
}

async function* keyed(requests: AsyncIterable<NewRequest[]>, lanes: Lanes, dialect: Dialect): AsyncGenerator<NewRequest[]> {
  const breakpointsOnly = lanes.all.every((lane) => !lane.gate || lane.breakpointsOnly);
  for await (const chunk of requests) {
    yield chunk.map((request) => ({ ...request, prefixKey: storedPrefixKey(request.params, lanes, dialect, breakpointsOnly) }));
  }
}

/**
 * A create's requests with their prefix keys, so that claims take a batch's requests sharing a
 * prefix together. Unchanged (and unparsed) when no lane is cache-aware.
 */
export function withPrefixKeys(requests: AsyncIterable<NewRequest[]>, lanes: Lanes, dialect: Dialect): AsyncIterable<NewRequest[]> {
  return lanes.all.some((lane) => lane.gate) ? keyed(requests, lanes, dialect) : requests;
}
