import type { BatchdClient, RequestOptions } from '../client.js';

/** `client.openai.files`: reading files of the OpenAI Files API (`/v1/files`), such as a batch's output and error files. */
export class OpenAIFiles {
  readonly #client: BatchdClient;

  constructor(client: BatchdClient) {
    this.#client = client;
  }

  /** A file's content as text. */
  async content(id: string, options?: RequestOptions): Promise<string> {
    const path = `/v1/files/${encodeURIComponent(id)}/content`;
    const response = await this.#client.request({ ...options, method: 'GET', path, accept: 'application/octet-stream' });
    return response.text();
  }
}
