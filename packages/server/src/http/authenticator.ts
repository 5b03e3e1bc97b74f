import { timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { hashApiKey, type ApiKeyStore } from '../store/api-key-store.js';
import { authenticationError } from './api-error.js';

/** `keys`: every request needs a key made by `batchd keys create`; `none`: any key, one shared workspace. */
export type AuthMode = 'keys' | 'none';

/** The workspace every batch belongs to when authentication is off. */
export const DEFAULT_WORKSPACE = 'default';

/** How long a key's lookup is remembered; a revoked key stops working within this time. */
const CACHE_MS = 5_000;
/** Most keys that open a workspace remembered at once. */
const MAX_KNOWN = 10_000;
/** Most keys that open nothing remembered at once: a client trying many cannot crowd out the others. */
const MAX_UNKNOWN = 1_000;

function apiKeyOf(request: FastifyRequest): string | undefined {
  const key = request.headers['x-api-key'];
  if (typeof key === 'string' && key.trim() !== '') return key;
  const bearer = request.headers.authorization?.match(/^Bearer\s+(\S.*)$/i);
  return bearer?.[1];
}

/** Who sent a request: the workspace it acts in, and the caller (the key's id, or its hash when keys are not checked). */
export interface Identity {
  workspace: string;
  caller: string;
}

/**
 * Finds the workspace a request acts in from its `x-api-key` or `Authorization: Bearer` key.
 * Keys are looked up by their SHA-256 hash and the hashes compared in constant time; the key
 * itself is never stored or logged.
 */
export class Authenticator {
  private readonly known = new Map<string, { identity: Identity; until: number }>();
  private readonly unknown = new Map<string, number>();

  constructor(
    readonly mode: AuthMode,
    private readonly apiKeys: ApiKeyStore,
    private readonly now: () => number = Date.now,
  ) {}

  /** The request's workspace and caller; throws 401 `authentication_error` when its key does not open a workspace. */
  async identify(request: FastifyRequest): Promise<Identity> {
    const key = apiKeyOf(request);
    if (key === undefined) throw authenticationError('x-api-key header or Authorization: Bearer token is required');
    const hash = hashApiKey(key);
    if (this.mode === 'none') return { workspace: DEFAULT_WORKSPACE, caller: hash };
    const now = this.now();
    const known = this.known.get(hash);
    if (known && known.until > now) return known.identity;
    if ((this.unknown.get(hash) ?? 0) > now) throw authenticationError('invalid x-api-key');
    const record = await this.apiKeys.find(hash);
    const valid = record !== null && record.revokedAt === null && timingSafeEqual(Buffer.from(record.hash, 'hex'), Buffer.from(hash, 'hex'));
    if (!valid) {
      this.known.delete(hash);
      remember(this.unknown, hash, now + CACHE_MS, MAX_UNKNOWN);
      throw authenticationError('invalid x-api-key');
    }
    const identity = { workspace: record.workspaceId, caller: record.id };
    remember(this.known, hash, { identity, until: now + CACHE_MS }, MAX_KNOWN);
    return identity;
  }
}

/** Sets `key` in `map` as its newest entry, dropping the oldest past `max`. */
function remember<V>(map: Map<string, V>, key: string, value: V, max: number): void {
  map.delete(key);
  map.set(key, value);
  if (map.size > max) map.delete(map.keys().next().value!);
}
