/** Files an upload is assembled from are kept as files of this purpose, named after their upload (see {@link UploadStore}). */
export const UPLOAD_PART_PURPOSE = 'upload_part';

/** An upload (OpenAI's Uploads API): a file assembled from parts sent one at a time. Times are milliseconds since the epoch. */
export interface UploadRecord {
  id: string;
  workspaceId: string;
  filename: string;
  purpose: string;
  mimeType: string;
  /** Bytes the parts must add up to. */
  bytes: number;
  createdAt: number;
  /** From then on parts and completion are refused, and the parts expire. */
  expiresAt: number;
  /** Seconds after its creation the assembled file expires (the upload's `expires_after`); null for the default. */
  fileExpiresAfter: number | null;
  status: 'pending' | 'completed' | 'cancelled';
  /** The assembled file, once completed. */
  fileId: string | null;
}

/**
 * The records of uploads. Their parts are files of purpose {@link UPLOAD_PART_PURPOSE}, named
 * after their upload and expiring with it: they stream in, count against the workspace's storage
 * and are removed as any file is.
 */
export interface UploadStore {
  createUpload(upload: UploadRecord): Promise<void>;
  getUpload(workspaceId: string, id: string): Promise<UploadRecord | null>;
  /** Ends a pending upload as `status`, naming its file when completed; false when it was no longer pending. */
  endUpload(workspaceId: string, id: string, status: 'completed' | 'cancelled', fileId: string | null): Promise<boolean>;
  /** The ids of the stored parts of the workspace's upload `uploadId`. */
  partIds(workspaceId: string, uploadId: string): Promise<string[]>;
  /** Removes up to `limit` records of uploads that expired before `before`; returns how many. */
  purgeUploads(before: number, limit: number): Promise<number>;
}
