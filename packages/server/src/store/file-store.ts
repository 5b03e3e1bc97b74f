import type { UploadStore } from './upload-store.js';

/** A stored file; times are milliseconds since the epoch. */
export interface FileRecord {
  id: string;
  workspaceId: string;
  purpose: string;
  filename: string;
  bytes: number;
  createdAt: number;
  /** When the file stops being served and may be removed; null for never. */
  expiresAt: number | null;
}

/** A file to store, with its expiry, or none yet (`setFileExpiry` sets one later). */
export type NewFile = Omit<FileRecord, 'bytes' | 'expiresAt'> & { expiresAt?: number };

export interface FileListQuery {
  limit: number;
  /** Files after this id in `order`. */
  after?: string;
  order: 'asc' | 'desc';
  purpose?: string;
  /** Files expired at this time are left out. */
  now: number;
}

export interface FileListPage {
  files: FileRecord[];
  hasMore: boolean;
}

/** One finished request of a batch, as stored: its result text is null for canceled and expired ones. */
export interface ResultRow {
  key: number;
  customId: string;
  type: 'succeeded' | 'errored' | 'canceled' | 'expired';
  result: string | null;
}

/**
 * Sums over the finished requests of a batch that ended one way (`type`, with a stored result
 * or without, `ran`): what sizes their lines of a result file without reading their results.
 */
export interface ResultRowSizes {
  type: ResultRow['type'];
  ran: boolean;
  rows: number;
  /** Digits of the rows' keys in decimal. */
  keyDigits: number;
  /** Bytes of the rows' custom_ids as JSON strings, quotes and escapes included. */
  customIdBytes: number;
  /** Bytes of the rows' stored results. */
  resultBytes: number;
}

/**
 * Files kept in the store, their content in chunks as it streamed in (never whole in memory),
 * and the finished requests of a batch, from which result files are read.
 */
export interface FileStore {
  /** Uploads, whose parts are files of this store. */
  readonly uploads: UploadStore;
  /**
   * Stores a file from `chunks` as they arrive, visible once all have been stored; if `chunks`
   * throws, nothing stays stored and the error is rethrown.
   */
  createFile(file: NewFile, chunks: AsyncIterable<Buffer>): Promise<FileRecord>;
  /** A file of the workspace, null when there is none or it has expired at `now`. */
  getFile(workspaceId: string, id: string, now: number): Promise<FileRecord | null>;
  listFiles(workspaceId: string, query: FileListQuery): Promise<FileListPage>;
  /** Bytes of the workspace's files served at `now`: what its file storage holds. */
  storedBytes(workspaceId: string, now: number): Promise<number>;
  /** Sets when a file of the workspace expires. */
  setFileExpiry(workspaceId: string, id: string, expiresAt: number): Promise<void>;
  /** Removes up to `limit` files expired at `now`, and their content, one at a time; returns how many. */
  purgeExpired(now: number, limit: number): Promise<number>;
  /** The content of a file of the workspace, chunk by chunk; nothing when there is no such file. */
  readFile(workspaceId: string, id: string): AsyncIterable<Buffer>;
  /** Deletes a file and its content; false when the workspace has no such file. */
  deleteFile(workspaceId: string, id: string): Promise<boolean>;
  /**
   * The finished requests of a batch in key order, in pages of at most `pageSize`: those that
   * succeeded, or all the others.
   */
  readResultRows(batchId: string, succeeded: boolean, pageSize: number): AsyncIterable<ResultRow[]>;
  /** The sizes of the rows {@link readResultRows} reads, one entry per way they ended, from the lengths the database keeps. */
  resultRowSizes(batchId: string, succeeded: boolean): Promise<ResultRowSizes[]>;
}
