import { UPLOAD_PART_PURPOSE, type UploadRecord, type UploadStore } from '../upload-store.js';
import type { SqliteDatabase } from './sqlite-database.js';

const UPLOAD_COLUMNS = `id, workspace_id AS workspaceId, filename, purpose, mime_type AS mimeType, bytes, created_at AS createdAt,
  expires_at AS expiresAt, file_expires_after AS fileExpiresAfter, status, file_id AS fileId`;

/** The records of uploads on SQLite (`uploads`, migration 19); their parts are files. */
export class SqliteUploads implements UploadStore {
  constructor(private readonly db: SqliteDatabase) {}

  async createUpload(upload: UploadRecord): Promise<void> {
    this.db
      .prepare(
        `INSERT INTO uploads (id, workspace_id, filename, purpose, mime_type, bytes, created_at, expires_at, file_expires_after, status, file_id)
         VALUES (@id, @workspaceId, @filename, @purpose, @mimeType, @bytes, @createdAt, @expiresAt, @fileExpiresAfter, @status, @fileId)`,
      )
      .run(upload);
  }

  async getUpload(workspaceId: string, id: string): Promise<UploadRecord | null> {
    return (this.db.prepare(`SELECT ${UPLOAD_COLUMNS} FROM uploads WHERE workspace_id = ? AND id = ?`).get(workspaceId, id) as UploadRecord | undefined) ?? null;
  }

  async endUpload(workspaceId: string, id: string, status: 'completed' | 'cancelled', fileId: string | null): Promise<boolean> {
    const { changes } = this.db.prepare(`UPDATE uploads SET status = ?, file_id = ? WHERE workspace_id = ? AND id = ? AND status = 'pending'`).run(status, fileId, workspaceId, id);
    return changes === 1;
  }

  async partIds(workspaceId: string, uploadId: string): Promise<string[]> {
    return this.db.prepare(`SELECT id FROM files WHERE workspace_id = ? AND purpose = ? AND filename = ? AND status = 'stored'`).pluck().all(workspaceId, UPLOAD_PART_PURPOSE, uploadId) as string[];
  }

  async purgeUploads(before: number, limit: number): Promise<number> {
    return this.db.prepare('DELETE FROM uploads WHERE id IN (SELECT id FROM uploads WHERE expires_at < ? LIMIT ?)').run(before, limit).changes;
  }
}
