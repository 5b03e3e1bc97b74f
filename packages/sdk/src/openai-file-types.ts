/** An expiry policy of OpenAI's Files and Batch APIs: `seconds` (3600 to 2592000) after the file's creation. */
export interface OpenAIExpiresAfter {
  anchor: 'created_at';
  seconds: number;
}

/** A file of the OpenAI Files API (`/v1/files`): an uploaded batch input file, or a batch's output or error file. */
export interface OpenAIFile {
  id: string;
  object: 'file';
  bytes: number;
  /** Seconds since the epoch. */
  created_at: number;
  /** When the file stops being served, in seconds since the epoch; null for never. */
  expires_at: number | null;
  filename: string;
  purpose: string;
  status: 'processed';
  status_details: null;
}

/** A page of `GET /v1/files`. */
export interface OpenAIFileList {
  object: 'list';
  data: OpenAIFile[];
  first_id: string | null;
  last_id: string | null;
  has_more: boolean;
}

export interface OpenAIFileListParams {
  /** The id of the last file of the previous page. */
  after?: string;
  /** 1 to 10,000; defaults to 10,000. */
  limit?: number;
  /** By creation; defaults to `desc`, newest first. */
  order?: 'asc' | 'desc';
  /** Only files of this purpose. */
  purpose?: string;
}
