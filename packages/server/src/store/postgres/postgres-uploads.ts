import type pg from 'pg';
import { UPLOAD_PART_PURPOSE, type UploadRecord, type UploadStore } from '../upload-store.js';

const UPLOAD_COLUMNS = `id, workspace_id AS "workspaceId", filename, purpose, mime_type AS "mimeType", bytes, created_at AS "createdAt",
  expires_at AS "expiresAt", file_expires_after AS "fileExpiresAfter", status, file_id AS "fileId"`;

/** The records of uploads on PostgreSQL (`batchd.uploads`, migration 16); their parts are files. */
export class PostgresUploads implements UploadStore {
  constructor(private readonly pool: pg.Pool) {}

  async createUpload(upload: UploadRecord): Promise<void> {
    await this.pool.query(
      `INSERT INTO batchd.uploads (id, workspace_id, filename, purpose, mime_type, bytes, created_at, expires_at, file_expires_after, status, file_id)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
      [upload.id, upload.workspaceId, upload.filename, upload.purpose, upload.mimeType, upload.bytes, upload.createdAt, upload.expiresAt, upload.fileExpiresAfter, upload.status, upload.fileId],
    );
  }

  async getUpload(workspaceId: string, id: string): Promise<UploadRecord | null> {
    const { rows } = await this.pool.query<UploadRecord>(`SELECT ${UPLOAD_COLUMNS} FROM batchd.uploads WHERE workspace_id = $1 AND id = $2`, [workspaceId, id]);
    return rows[0] ?? null;
  }

  async endUpload(workspaceId: string, id: string, status: 'completed' | 'cancelled', fileId: string | null): Promise<boolean> {
    const { rowCount } = await this.pool.query(`UPDATE batchd.uploads SET status = $3, file_id = $4 WHERE workspace_id = $1 AND id = $2 AND status = 'pending'`, [workspaceId, id, status, fileId]);
    return rowCount === 1;
  }

  async partIds(workspaceId: string, uploadId: string): Promise<string[]> {
    const { rows } = await this.pool.query<{ id: string }>('SELECT id FROM batchd.files WHERE workspace_id = $1 AND purpose = $2 AND filename = $3', [workspaceId, UPLOAD_PART_PURPOSE, uploadId]);
    return rows.map((row) => row.id);
  }

  async purgeUploads(before: number, limit: number): Promise<number> {
    const { rowCount } = await this.pool.query('DELETE FROM batchd.uploads WHERE id IN (SELECT id FROM batchd.uploads WHERE expires_at < $1 LIMIT $2)', [before, limit]);
    return rowCount ?? 0;
  }
}
