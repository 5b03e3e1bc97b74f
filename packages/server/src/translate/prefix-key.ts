import { createHash } from 'node:crypto';
import { isObject } from '../json.js';
import type { Dialect } from '../store/store.js';

/** The part of a request that requests sharing it can have cached once: a short hash of it, and its size. */
export interface PrefixKey {
  /** A short hash of the prefix (and the model), equal for requests that share it. */
  key: string;
  /** The prefix's estimated size in tokens: about one per four characters of its JSON. */
  tokens: number;
  /** True when the prefix ends at a `cache_control` breakpoint: the provider caches it on request. */
  cacheControl: boolean;
}

/** Where the last `cache_control` breakpoint is: the section, the item, and the block inside a message. */
interface Breakpoint {
  section: 'tools' | 'system' | 'messages';
  index: number;
  block: number;
}

const hasBreakpoint = (value: unknown) => isObject(value) && value.cache_control !== undefined && value.cache_control !== null;

const asList = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);

/** The last block of `list` that carries `cache_control`, or -1. */
function lastMarked(list: unknown[]): number {
  for (let i = list.length - 1; i >= 0; i--) if (hasBreakpoint(list[i])) return i;
  return -1;
}

/** The last `cache_control` breakpoint in the order the provider reads them: tools, system, messages. */
function lastBreakpoint(params: Record<string, unknown>): Breakpoint | undefined {
  const messages = asList(params.messages);
  for (let index = messages.length - 1; index >= 0; index--) {
    const message = messages[index];
    const block = isObject(message) ? lastMarked(asList(message.content)) : -1;
    if (block >= 0) return { section: 'messages', index, block };
  }
  const system = lastMarked(asList(params.system));
  if (system >= 0) return { section: 'system', index: system, block: 0 };
  const tools = lastMarked(asList(params.tools));
  return tools >= 0 ? { section: 'tools', index: tools, block: 0 } : undefined;
}

/** Messages params up to and including the block at `at`. */
function upToBreakpoint(params: Record<string, unknown>, at: Breakpoint): unknown[] {
  const tools = asList(params.tools);
  if (at.section === 'tools') return [tools.slice(0, at.index + 1)];
  if (at.section === 'system') return [tools, asList(params.system).slice(0, at.index + 1)];
  const messages = asList(params.messages);
  const last = messages[at.index] as Record<string, unknown>;
  const lastPart = { role: last.role, content: asList(last.content).slice(0, at.block + 1) };
  return [tools, params.system ?? null, [...messages.slice(0, at.index), lastPart]];
}

/** The leading part an engine reuses without being asked: everything but the last turn; null when that is nothing. */
function leadingPart(params: Record<string, unknown>, dialect: Dialect): unknown[] | null {
  const messages = asList(params.messages);
  const earlier = messages.slice(0, -1);
  const tools = asList(params.tools);
  if (dialect === 'chat') return earlier.length === 0 && tools.length === 0 ? null : [tools, earlier];
  const system = params.system ?? null;
  const noSystem = system === null || system === '' || (Array.isArray(system) && system.length === 0);
  return earlier.length === 0 && tools.length === 0 && noSystem ? null : [tools, system, earlier];
}

/**
 * The prefix a request shares with others, for grouping requests that can reuse one cache entry.
 * Messages params: everything up to the last `cache_control` breakpoint, in the order tools,
 * system, messages; without one, the tools, the system prompt and every turn but the last. Chat
 * completions params: the tools and every message but the last. Undefined when there is none,
 * or with `breakpointsOnly` when there is no breakpoint.
 */
export function prefixKey(params: Record<string, unknown>, dialect: Dialect, options: { breakpointsOnly?: boolean } = {}): PrefixKey | undefined {
  const breakpoint = dialect === 'messages' ? lastBreakpoint(params) : undefined;
  if (!breakpoint && options.breakpointsOnly) return undefined;
  const parts = breakpoint ? upToBreakpoint(params, breakpoint) : leadingPart(params, dialect);
  if (parts === null) return undefined;
  const text = JSON.stringify([params.model ?? null, ...parts]);
  const key = createHash('sha256').update(text).digest('base64url').slice(0, 16);
  return { key, tokens: Math.ceil(text.length / 4), cacheControl: breakpoint !== undefined };
}

/** A prefix as the store keeps it, `<key>:<tokens>`: requests with one prefix have one stored text. */
export function storedPrefix(prefix: PrefixKey): string {
  return `${prefix.key}:${prefix.tokens}`;
}

/** The key and size of a stored prefix (see {@link storedPrefix}); undefined for anything else. */
export function readStoredPrefix(text: string | undefined): { key: string; tokens: number } | undefined {
  const match = text === undefined ? null : /^([\w-]+):(\d+)$/.exec(text);
  return match ? { key: match[1]!, tokens: Number(match[2]) } : undefined;
}
