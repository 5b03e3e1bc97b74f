import { setImmediate } from 'node:timers/promises';
import type { FileListPage, FileListQuery, FileRecord, FileStore, NewFile, ResultRow, ResultRowSizes } from '../file-store.js';
import type { SqliteDatabase } from './sqlite-database.js';
import { SqliteUploads } from './sqlite-uploads.js';

const FILE_COLUMNS = `id, workspace_id AS workspaceId, purpose, filename, bytes, created_at AS createdAt, expires_at AS expiresAt`;
/** A stored file not expired at the time bound to `@now`. */
const LIVE = `status = 'stored' AND (expires_at IS NULL OR expires_at > @now)`;

/**
 * Files on SQLite: one row per file and its content in `file_chunks`, one row per chunk as it
 * arrived. A file is `uploading` until its last chunk is stored; uploads a stopped process left
 * unfinished are removed by {@link SqliteFiles.discardUnfinished}.
 */
export class SqliteFiles implements FileStore {
  readonly uploads: SqliteUploads;

  constructor(private readonly db: SqliteDatabase) {
    this.uploads = new SqliteUploads(db);
  }

  /** Removes the files whose upload never finished. */
  discardUnfinished(): void {
    const seqs = this.db.prepare(`SELECT seq FROM files WHERE status = 'uploading'`).pluck().all() as number[];
    for (const seq of seqs) this.remove(seq);
  }

  private remove(seq: number): void {
    this.db.transaction(() => {
      this.db.prepare('DELETE FROM file_chunks WHERE file_seq = ?').run(seq);
      this.db.prepare('DELETE FROM files WHERE seq = ?').run(seq);
    })();
  }

  async createFile(file: NewFile, chunks: AsyncIterable<Buffer>): Promise<FileRecord> {
    const { lastInsertRowid } = this.db
      .prepare(`INSERT INTO files (id, workspace_id, purpose, filename, created_at, expires_at, status) VALUES (?, ?, ?, ?, ?, ?, 'uploading')`)
      .run(file.id, file.workspaceId, file.purpose, file.filename, file.createdAt, file.expiresAt ?? null);
    const seq = Number(lastInsertRowid);
    const insertChunk = this.db.prepare('INSERT INTO file_chunks (file_seq, part, data) VALUES (?, ?, ?)');
    let bytes = 0;
    let part = 0;
    try {
      for await (const chunk of chunks) {
        insertChunk.run(seq, part++, chunk);
        bytes += chunk.length;
      }
    } catch (error) {
      this.remove(seq);
      throw error;
    }
    this.db.prepare(`UPDATE files SET status = 'stored', bytes = ? WHERE seq = ?`).run(bytes, seq);
    return { ...file, bytes, expiresAt: file.expiresAt ?? null };
  }

  async getFile(workspaceId: string, id: string, now: number): Promise<FileRecord | null> {
    const row = this.db.prepare(`SELECT ${FILE_COLUMNS} FROM files WHERE workspace_id = @workspaceId AND id = @id AND ${LIVE}`).get({ workspaceId, id, now });
    return (row as FileRecord | undefined) ?? null;
  }

  async setFileExpiry(workspaceId: string, id: string, expiresAt: number): Promise<void> {
    this.db.prepare(`UPDATE files SET expires_at = ? WHERE workspace_id = ? AND id = ?`).run(expiresAt, workspaceId, id);
  }

  /** One file per transaction, the event loop free between them: a file may hold 200 MB of chunks. */
  async purgeExpired(now: number, limit: number): Promise<number> {
    const seqs = this.db.prepare('SELECT seq FROM files WHERE expires_at IS NOT NULL AND expires_at <= ? LIMIT ?').pluck().all(now, limit) as number[];
    for (const seq of seqs) {
      this.remove(seq);
      await setImmediate();
    }
    return seqs.length;
  }

  async storedBytes(workspaceId: string, now: number): Promise<number> {
    return this.db.prepare(`SELECT COALESCE(SUM(bytes), 0) FROM files WHERE workspace_id = @workspaceId AND ${LIVE}`).pluck().get({ workspaceId, now }) as number;
  }

  async listFiles(workspaceId: string, query: FileListQuery): Promise<FileListPage> {
    const asc = query.order === 'asc';
    const after = query.after ?? (asc ? '' : '\u{10FFFF}');
    const purpose = query.purpose === undefined ? '' : 'AND purpose = @purpose';
    const rows = this.db
      .prepare(
        `SELECT ${FILE_COLUMNS} FROM files WHERE workspace_id = @workspaceId AND ${LIVE} AND id ${asc ? '>' : '<'} @after ${purpose}
         ORDER BY id ${asc ? 'ASC' : 'DESC'} LIMIT @limit`,
      )
      .all({ workspaceId, after, now: query.now, limit: query.limit + 1, ...(query.purpose === undefined ? {} : { purpose: query.purpose }) }) as FileRecord[];
    return { files: rows.slice(0, query.limit), hasMore: rows.length > query.limit };
  }

  async *readFile(workspaceId: string, id: string): AsyncIterable<Buffer> {
    const seq = this.db.prepare(`SELECT seq FROM files WHERE workspace_id = ? AND id = ? AND status = 'stored'`).pluck().get(workspaceId, id);
    if (seq === undefined) return;
    const chunk = this.db.prepare('SELECT data FROM file_chunks WHERE file_seq = ? AND part = ?').pluck();
    for (let part = 0; ; part++) {
      const data = chunk.get(seq, part) as Buffer | undefined;
      if (data === undefined) return;
      yield data;
    }
  }

  async deleteFile(workspaceId: string, id: string): Promise<boolean> {
    const seq = this.db.prepare(`SELECT seq FROM files WHERE workspace_id = ? AND id = ? AND status = 'stored'`).pluck().get(workspaceId, id);
    if (seq === undefined) return false;
    this.remove(seq as number);
    return true;
  }

  async *readResultRows(batchId: string, succeeded: boolean, pageSize: number): AsyncIterable<ResultRow[]> {
    const seq = this.db.prepare('SELECT seq FROM batches WHERE id = ?').pluck().get(batchId);
    if (seq === undefined) return;
    const page = this.db.prepare(
      `SELECT key, custom_id AS customId, result_type AS type, result FROM requests
       WHERE batch_seq = ? AND key > ? AND state = 'done' AND (result_type = 'succeeded') = ? ORDER BY key LIMIT ?`,
    );
    let after = 0;
    for (;;) {
      const rows = page.all(seq, after, succeeded ? 1 : 0, pageSize) as ResultRow[];
      if (rows.length === 0) return;
      yield rows;
      if (rows.length < pageSize) return;
      after = rows[rows.length - 1]!.key;
    }
  }

  async resultRowSizes(batchId: string, succeeded: boolean): Promise<ResultRowSizes[]> {
    const seq = this.db.prepare('SELECT seq FROM batches WHERE id = ?').pluck().get(batchId);
    if (seq === undefined) return [];
    const groups = this.db
      .prepare(
        `SELECT result_type AS type, result IS NOT NULL AS ran, count(*) AS rows, sum(length(key)) AS keyDigits,
           sum(octet_length(json_quote(custom_id))) AS customIdBytes, COALESCE(sum(octet_length(result)), 0) AS resultBytes
         FROM requests WHERE batch_seq = ? AND state = 'done' AND (result_type = 'succeeded') = ? GROUP BY result_type, result IS NOT NULL`,
      )
      .all(seq, succeeded ? 1 : 0) as Array<Omit<ResultRowSizes, 'ran'> & { ran: number }>;
    return groups.map((group) => ({ ...group, ran: group.ran === 1 }));
  }
}
