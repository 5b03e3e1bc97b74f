import type { BatchdClient, RequestOptions } from '../client.js';
import { Page, PagePromise, type PageParams, type PageResponse } from '../core/pagination.js';
import type {
  DeletedWebhookEndpoint,
  WebhookDelivery,
  WebhookDeliveryListParams,
  WebhookEndpoint,
  WebhookEndpointCreateParams,
} from '../webhook-types.js';

const ENDPOINTS_PATH = '/v1/batchd/webhooks';

/** `client.webhooks`: batchd's webhook endpoints and their delivery logs (`/v1/batchd/webhooks`). */
export class Webhooks {
  readonly #client: BatchdClient;

  constructor(client: BatchdClient) {
    this.#client = client;
  }

  /** Registers an endpoint; the answer carries the `secret` to verify its events with. */
  create(body: WebhookEndpointCreateParams, options?: RequestOptions): Promise<WebhookEndpoint> {
    return this.#client.requestJSON<WebhookEndpoint>({ ...options, method: 'POST', path: ENDPOINTS_PATH, body: JSON.stringify(body) });
  }

  /** The workspace's endpoints, oldest first. */
  async list(options?: RequestOptions): Promise<WebhookEndpoint[]> {
    const body = await this.#client.requestJSON<{ data: WebhookEndpoint[] }>({ ...options, method: 'GET', path: ENDPOINTS_PATH });
    return body.data;
  }

  retrieve(id: string, options?: RequestOptions): Promise<WebhookEndpoint> {
    return this.#client.requestJSON<WebhookEndpoint>({ ...options, method: 'GET', path: endpointPath(id) });
  }

  /** Removes an endpoint and its delivery log; nothing more is sent to it. */
  delete(id: string, options?: RequestOptions): Promise<DeletedWebhookEndpoint> {
    return this.#client.requestJSON<DeletedWebhookEndpoint>({ ...options, method: 'DELETE', path: endpointPath(id) });
  }

  /** An endpoint's deliveries, newest first, each with its attempts; `for await` walks every page. */
  deliveries(id: string, query: WebhookDeliveryListParams = {}, options?: RequestOptions): PagePromise<WebhookDelivery> {
    const fetchPage = async (params: PageParams): Promise<Page<WebhookDelivery>> => {
      const body = await this.#client.requestJSON<PageResponse<WebhookDelivery>>({
        ...options,
        method: 'GET',
        path: `${endpointPath(id)}/deliveries`,
        query: { limit: params.limit, after_id: params.after_id },
      });
      return new Page(body, params, fetchPage);
    };
    return PagePromise.fromFetch(fetchPage, query);
  }

  /** Sends a delivered or failed delivery again as soon as a sender is free; a failing attempt is retried where its schedule left off. */
  retryDelivery(id: string, deliveryId: string, options?: RequestOptions): Promise<WebhookDelivery> {
    const path = `${endpointPath(id)}/deliveries/${encodeURIComponent(deliveryId)}/retry`;
    return this.#client.requestJSON<WebhookDelivery>({ ...options, method: 'POST', path });
  }
}

function endpointPath(id: string): string {
  return `${ENDPOINTS_PATH}/${encodeURIComponent(id)}`;
}
