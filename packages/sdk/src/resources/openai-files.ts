import type { BatchdClient, RequestOptions } from '../client.js';
import type { OpenAIFile, OpenAIFileList, OpenAIFileListParams } from '../openai-file-types.js';

/** `client.openai.files`: reading files of the OpenAI Files API (`/v1/files`), such as a batch's output and error files. */
export class OpenAIFiles {
  readonly #client: BatchdClient;

  constructor(client: BatchdClient) {
    this.#client = client;
  }

  /** One page of the workspace's uploaded files, newest first unless `order` is `asc`. */
  list(query: OpenAIFileListParams = {}, options?: RequestOptions): Promise<OpenAIFileList> {
    const { after, limit, order, purpose } = query;
    return this.#client.requestJSON<OpenAIFileList>({ ...options, method: 'GET', path: '/v1/files', query: { after, limit, order, purpose } });
  }

  retrieve(id: string, options?: RequestOptions): Promise<OpenAIFile> {
    return this.#client.requestJSON<OpenAIFile>({ ...options, method: 'GET', path: `/v1/files/${encodeURIComponent(id)}` });
  }

  /** A file's content as text. */
  async content(id: string, options?: RequestOptions): Promise<string> {
    const path = `/v1/files/${encodeURIComponent(id)}/content`;
    const response = await this.#client.request({ ...options, method: 'GET', path, accept: 'application/octet-stream' });
    return response.text();
  }
}
