import type pg from 'pg';
import type { ApiKeyRecord, ApiKeyStore } from '../api-key-store.js';

const KEY_COLUMNS = `id, workspace_id AS "workspaceId", hash, prefix, created_at AS "createdAt", revoked_at AS "revokedAt"`;

/** API keys in `batchd.api_keys`, shared by every node on the database. */
export class PostgresApiKeys implements ApiKeyStore {
  constructor(private readonly pool: pg.Pool) {}

  async create(key: Omit<ApiKeyRecord, 'revokedAt'>): Promise<void> {
    await this.pool.query('INSERT INTO batchd.api_keys (id, workspace_id, hash, prefix, created_at) VALUES ($1, $2, $3, $4, $5)', [
      key.id,
      key.workspaceId,
      key.hash,
      key.prefix,
      key.createdAt,
    ]);
  }

  async find(hash: string): Promise<ApiKeyRecord | null> {
    const { rows } = await this.pool.query<ApiKeyRecord>({ name: 'batchd-find-key', text: `SELECT ${KEY_COLUMNS} FROM batchd.api_keys WHERE hash = $1`, values: [hash] });
    return rows[0] ?? null;
  }

  async list(): Promise<ApiKeyRecord[]> {
    return (await this.pool.query<ApiKeyRecord>(`SELECT ${KEY_COLUMNS} FROM batchd.api_keys ORDER BY created_at, id`)).rows;
  }

  async revoke(id: string, now: number): Promise<boolean> {
    const result = await this.pool.query('UPDATE batchd.api_keys SET revoked_at = COALESCE(revoked_at, $2) WHERE id = $1', [id, now]);
    return (result.rowCount ?? 0) > 0;
  }
}
