import type pg from 'pg';
import { withSpooled } from '../../spool.js';
import type { FileListPage, FileListQuery, FileRecord, FileStore, NewFile, ResultRow, ResultRowSizes } from '../file-store.js';
import { PostgresUploads } from './postgres-uploads.js';

const FILE_COLUMNS = `id, workspace_id AS "workspaceId", purpose, filename, bytes, created_at AS "createdAt", expires_at AS "expiresAt"`;

/**
 * Files on PostgreSQL: one row per file and its content in `file_chunks`, one `bytea` row per
 * chunk of up to 1 MiB, all written in one transaction, so a file is visible only once whole.
 *
 * Uploads are spooled to a temporary file first, so the transaction never waits on a client.
 * Content is read through `readers`, a pool of its own, so that reading input files (a batch
 * create reads its file twice) never takes connections from the API's queries.
 */
export class PostgresFiles implements FileStore {
  readonly uploads: PostgresUploads;

  constructor(
    private readonly pool: pg.Pool,
    private readonly readers: pg.Pool,
    private readonly transaction: <T>(work: (client: pg.PoolClient) => Promise<T>) => Promise<T>,
  ) {
    this.uploads = new PostgresUploads(pool);
  }

  /** Closes the readers' pool. */
  async close(): Promise<void> {
    await this.readers.end();
  }

  /** Spools the upload to a temporary file as it arrives, then stores it in one transaction. */
  async createFile(file: NewFile, chunks: AsyncIterable<Buffer>): Promise<FileRecord> {
    return withSpooled(chunks, (content) =>
      this.transaction(async (client) => {
        const inserted = await client.query<{ seq: number }>(
          `INSERT INTO batchd.files (id, workspace_id, purpose, filename, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING seq`,
          [file.id, file.workspaceId, file.purpose, file.filename, file.createdAt, file.expiresAt ?? null],
        );
        const seq = inserted.rows[0]!.seq;
        let bytes = 0;
        let part = 0;
        for await (const chunk of content()) {
          await client.query('INSERT INTO batchd.file_chunks (file_seq, part, data) VALUES ($1, $2, $3)', [seq, part++, chunk]);
          bytes += chunk.length;
        }
        await client.query('UPDATE batchd.files SET bytes = $2 WHERE seq = $1', [seq, bytes]);
        return { ...file, bytes, expiresAt: file.expiresAt ?? null };
      }),
    );
  }

  async getFile(workspaceId: string, id: string, now: number): Promise<FileRecord | null> {
    const { rows } = await this.pool.query<FileRecord>(
      `SELECT ${FILE_COLUMNS} FROM batchd.files WHERE workspace_id = $1 AND id = $2 AND (expires_at IS NULL OR expires_at > $3)`,
      [workspaceId, id, now],
    );
    return rows[0] ?? null;
  }

  async setFileExpiry(workspaceId: string, id: string, expiresAt: number): Promise<void> {
    await this.pool.query('UPDATE batchd.files SET expires_at = $3 WHERE workspace_id = $1 AND id = $2', [workspaceId, id, expiresAt]);
  }

  /** One file per transaction: a file may hold 200 MB of chunks. */
  async purgeExpired(now: number, limit: number): Promise<number> {
    const { rows } = await this.pool.query<{ workspaceId: string; id: string }>(
      'SELECT workspace_id AS "workspaceId", id FROM batchd.files WHERE expires_at IS NOT NULL AND expires_at <= $1 LIMIT $2',
      [now, limit],
    );
    for (const file of rows) await this.deleteFile(file.workspaceId, file.id);
    return rows.length;
  }

  async storedBytes(workspaceId: string, now: number): Promise<number> {
    const { rows } = await this.pool.query<{ bytes: number }>(
      `SELECT COALESCE(SUM(bytes), 0)::float8 AS bytes FROM batchd.files WHERE workspace_id = $1 AND (expires_at IS NULL OR expires_at > $2)`,
      [workspaceId, now],
    );
    return rows[0]!.bytes;
  }

  async listFiles(workspaceId: string, query: FileListQuery): Promise<FileListPage> {
    const asc = query.order === 'asc';
    const values: unknown[] = [workspaceId, query.limit + 1, query.now];
    let where = 'workspace_id = $1 AND (expires_at IS NULL OR expires_at > $3)';
    if (query.after !== undefined) where += ` AND id ${asc ? '>' : '<'} $${values.push(query.after)}`;
    if (query.purpose !== undefined) where += ` AND purpose = $${values.push(query.purpose)}`;
    const { rows } = await this.pool.query<FileRecord>(
      `SELECT ${FILE_COLUMNS} FROM batchd.files WHERE ${where} ORDER BY id ${asc ? 'ASC' : 'DESC'} LIMIT $2`,
      values,
    );
    return { files: rows.slice(0, query.limit), hasMore: rows.length > query.limit };
  }

  /** One chunk per query, so memory holds one chunk whatever the file's size. */
  async *readFile(workspaceId: string, id: string): AsyncIterable<Buffer> {
    const found = await this.readers.query<{ seq: number }>('SELECT seq FROM batchd.files WHERE workspace_id = $1 AND id = $2', [workspaceId, id]);
    const seq = found.rows[0]?.seq;
    if (seq === undefined) return;
    for (let part = 0; ; part++) {
      const { rows } = await this.readers.query<{ data: Buffer }>({
        name: 'batchd-file-chunk',
        text: 'SELECT data FROM batchd.file_chunks WHERE file_seq = $1 AND part = $2',
        values: [seq, part],
      });
      if (rows.length === 0) return;
      yield rows[0]!.data;
    }
  }

  async deleteFile(workspaceId: string, id: string): Promise<boolean> {
    return this.transaction(async (client) => {
      const { rows } = await client.query<{ seq: number }>('DELETE FROM batchd.files WHERE workspace_id = $1 AND id = $2 RETURNING seq', [workspaceId, id]);
      if (rows.length === 0) return false;
      await client.query('DELETE FROM batchd.file_chunks WHERE file_seq = $1', [rows[0]!.seq]);
      return true;
    });
  }

  async *readResultRows(batchId: string, succeeded: boolean, pageSize: number): AsyncIterable<ResultRow[]> {
    const found = await this.pool.query<{ seq: number }>('SELECT seq FROM batchd.batches WHERE id = $1', [batchId]);
    const seq = found.rows[0]?.seq;
    if (seq === undefined) return;
    let after = 0;
    for (;;) {
      const { rows } = await this.pool.query<ResultRow>({
        name: 'batchd-result-rows',
        text: `SELECT key, custom_id AS "customId", result_type AS type, result FROM batchd.requests
          WHERE batch_seq = $1 AND key > $2 AND state = 'done' AND (result_type = 'succeeded') = $3 ORDER BY key LIMIT $4`,
        values: [seq, after, succeeded, pageSize],
      });
      if (rows.length === 0) return;
      yield rows;
      if (rows.length < pageSize) return;
      after = rows[rows.length - 1]!.key;
    }
  }

  async resultRowSizes(batchId: string, succeeded: boolean): Promise<ResultRowSizes[]> {
    const { rows } = await this.pool.query<ResultRowSizes>(
      `SELECT result_type AS type, result IS NOT NULL AS ran, count(*) AS rows, sum(length(key::text)) AS "keyDigits",
         sum(octet_length(to_json(custom_id)::text)) AS "customIdBytes", COALESCE(sum(octet_length(result)), 0) AS "resultBytes"
       FROM batchd.requests WHERE batch_seq = (SELECT seq FROM batchd.batches WHERE id = $1) AND state = 'done' AND (result_type = 'succeeded') = $2
       GROUP BY result_type, result IS NOT NULL`,
      [batchId, succeeded],
    );
    return rows;
  }
}
