import type { CreateOptions } from '../batch-creates.js';
import { toBatchRecord, type BatchRow } from '../batch-row.js';
import type { BatchRecord, NewBatch, NewRequest } from '../store.js';
import type { SqliteBatchCreates } from './sqlite-batch-creates.js';
import type { SqliteDatabase } from './sqlite-database.js';
import type { SqliteParams } from './sqlite-params.js';
import type { Statements } from './sqlite-statements.js';

/** What a create uses of the store on one SQLite file. */
export interface CreateParts {
  db: SqliteDatabase;
  sql: Statements;
  params: SqliteParams;
  creates: SqliteBatchCreates;
}

/** Deletes a batch and its requests (with their params and provider rows, by trigger). */
export function discardBatch(sql: Statements, seq: number): void {
  sql.discardRequests.run(seq);
  sql.discardBatch.run(seq);
}

/**
 * Stores a batch and its requests: the batch first, unseen (`creating`), then each chunk of
 * requests in a transaction of its own, the rest of large params after it a piece per turn, and
 * last one transaction that opens the batch, or discards it when it repeats an earlier create. A
 * batch with `providerBackend` has its requests stored running, and handed to that backend in the
 * transaction that opens it, so no provider batch takes them before the create is whole.
 */
export async function createBatch(parts: CreateParts, batch: NewBatch, requests: AsyncIterable<NewRequest[]>, options?: CreateOptions): Promise<BatchRecord> {
  const { db, sql, params, creates } = parts;
  const routed = batch.providerBackend !== undefined;
  const { lastInsertRowid } = sql.insertBatch.run(
    batch.id,
    batch.workspaceId,
    batch.createdAt,
    batch.expiresAt,
    batch.archiveAt,
    batch.dialect ?? 'messages',
    batch.attributes ?? null,
    batch.endpoint ?? null,
  );
  const seq = Number(lastInsertRowid);
  const insert = routed ? sql.insertRoutedRequest : sql.insertRequest;
  const insertChunk = db.transaction((chunk: NewRequest[]) => {
    const pieced: Array<{ key: number | bigint; rest: string[] }> = [];
    for (const request of chunk) {
      const { lastInsertRowid } = insert.run(seq, request.customId, request.prefixKey ?? null);
      const rest = params.insert(lastInsertRowid, request.params);
      if (rest.length > 0) pieced.push({ key: lastInsertRowid, rest });
    }
    return pieced;
  });
  const finish = db.transaction((count: number): BatchRecord => {
    const earlierId = options ? creates.settle(batch, options) : null;
    if (earlierId === null) {
      if (count === 0) sql.endEmptyBatch.run(seq);
      else sql.openBatch.run(count, seq);
      if (routed && count > 0) sql.routeCreated.run(batch.providerBackend, seq);
      return toBatchRecord(sql.getBatchBySeq.get(seq) as BatchRow);
    }
    discardBatch(sql, seq);
    return toBatchRecord(sql.getBatch.get(batch.workspaceId, earlierId) as BatchRow);
  });
  let count = 0;
  try {
    for await (const chunk of requests) {
      for (const { key, rest } of insertChunk(chunk)) await params.insertRest(key, rest);
      count += chunk.length;
    }
    return finish(count);
  } catch (error) {
    db.transaction(() => discardBatch(sql, seq))();
    throw error;
  }
}
