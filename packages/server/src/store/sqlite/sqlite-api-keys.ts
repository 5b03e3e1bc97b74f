import type { ApiKeyRecord, ApiKeyStore } from '../api-key-store.js';
import type { SqliteDatabase } from './sqlite-database.js';

const KEY_COLUMNS = `id, workspace_id AS workspaceId, hash, prefix, created_at AS createdAt, revoked_at AS revokedAt`;

/** API keys in the `api_keys` table of a SQLite store. */
export class SqliteApiKeys implements ApiKeyStore {
  constructor(private readonly db: SqliteDatabase) {}

  async create(key: Omit<ApiKeyRecord, 'revokedAt'>): Promise<void> {
    this.db
      .prepare('INSERT INTO api_keys (id, workspace_id, hash, prefix, created_at) VALUES (?, ?, ?, ?, ?)')
      .run(key.id, key.workspaceId, key.hash, key.prefix, key.createdAt);
  }

  async find(hash: string): Promise<ApiKeyRecord | null> {
    const row = this.db.prepare(`SELECT ${KEY_COLUMNS} FROM api_keys WHERE hash = ?`).get(hash) as ApiKeyRecord | undefined;
    return row ?? null;
  }

  async list(): Promise<ApiKeyRecord[]> {
    return this.db.prepare(`SELECT ${KEY_COLUMNS} FROM api_keys ORDER BY created_at, id`).all() as ApiKeyRecord[];
  }

  async revoke(id: string, now: number): Promise<boolean> {
    return this.db.prepare('UPDATE api_keys SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ?').run(now, id).changes > 0;
  }
}
