/** The API keys that open workspaces: kept by the hex SHA-256 of the key, never the key itself. */

import { createHash } from 'node:crypto';

/** The hex SHA-256 of a key: what the store keeps and looks keys up by. */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

export interface ApiKeyRecord {
  id: string;
  workspaceId: string;
  /** Hex SHA-256 of the key. */
  hash: string;
  /** The key's first characters, to tell keys apart in listings. */
  prefix: string;
  createdAt: number;
  revokedAt: number | null;
}

export interface ApiKeyStore {
  create(key: Omit<ApiKeyRecord, 'revokedAt'>): Promise<void>;
  /** The key with this hash, revoked or not; null when there is none. */
  find(hash: string): Promise<ApiKeyRecord | null>;
  /** Every key, oldest first. */
  list(): Promise<ApiKeyRecord[]>;
  /** Revokes a key by id; false when there is no such key. */
  revoke(id: string, now: number): Promise<boolean>;
}
