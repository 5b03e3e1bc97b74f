import { BatchdError } from './error.js';

/** Cursor query of a list endpoint. */
export interface PageParams {
  /** Items per page (1..1000; the server's default is 20). */
  limit?: number;
  /** Return the page immediately newer than this id. Following pages then continue newer. */
  before_id?: string;
  /** Return the page immediately older than this id. */
  after_id?: string;
}

/** Body of a list response. */
export interface PageResponse<Item> {
  data: Item[];
  has_more: boolean;
  first_id: string | null;
  last_id: string | null;
}

/** Fetches one page for a query; carries the request options of the original list call. */
export type PageFetcher<Item> = (query: PageParams) => Promise<Page<Item>>;

/**
 * One page of a cursor-paginated list. Iterating it with `for await` yields the items of this
 * page and of every following page. Paging continues in the direction of the original query:
 * newer (`before_id = first_id`) when it had `before_id`, otherwise older (`after_id = last_id`).
 */
export class Page<Item> implements PageResponse<Item>, AsyncIterable<Item> {
  data: Item[];
  has_more: boolean;
  first_id: string | null;
  last_id: string | null;
  readonly #query: PageParams;
  readonly #fetchPage: PageFetcher<Item>;

  constructor(body: PageResponse<Item>, query: PageParams, fetchPage: PageFetcher<Item>) {
    this.data = body.data ?? [];
    this.has_more = body.has_more ?? false;
    this.first_id = body.first_id ?? null;
    this.last_id = body.last_id ?? null;
    this.#query = query;
    this.#fetchPage = fetchPage;
  }

  /** The query of the next page, or null when this is the last one. */
  nextPageParams(): PageParams | null {
    if (!this.has_more || this.data.length === 0) return null;
    if (this.#query.before_id) {
      return this.first_id ? { ...this.#query, before_id: this.first_id } : null;
    }
    return this.last_id ? { ...this.#query, after_id: this.last_id } : null;
  }

  hasNextPage(): boolean {
    return this.nextPageParams() !== null;
  }

  /** Fetches the next page; throws when `hasNextPage()` is false. */
  async getNextPage(): Promise<Page<Item>> {
    const next = this.nextPageParams();
    if (!next) {
      throw new BatchdError('No next page; check hasNextPage() before calling getNextPage().');
    }
    return this.#fetchPage(next);
  }

  /** Yields this page and each following page in turn. */
  async *iterPages(): AsyncGenerator<Page<Item>> {
    let page: Page<Item> = this;
    yield page;
    while (page.hasNextPage()) {
      page = await page.getNextPage();
      yield page;
    }
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Item> {
    for await (const page of this.iterPages()) {
      yield* page.data;
    }
  }
}

/**
 * The result of a list call: a promise of its first page that can also be iterated directly,
 * `for await (const item of client.messages.batches.list())`, across all pages.
 */
export class PagePromise<Item> extends Promise<Page<Item>> implements AsyncIterable<Item> {
  /** Promises derived with `then`/`catch`/`finally` are plain promises. */
  static override get [Symbol.species](): PromiseConstructor {
    return Promise;
  }

  static fromFetch<Item>(fetchPage: PageFetcher<Item>, query: PageParams): PagePromise<Item> {
    return new PagePromise<Item>((resolve, reject) => {
      fetchPage(query).then(resolve, reject);
    });
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Item> {
    const page = await this;
    yield* page;
  }
}
