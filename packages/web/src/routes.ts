import type { MessageBatchProcessingStatus } from '@batchd/sdk';

export type StatusFilter = MessageBatchProcessingStatus | null;

/** The dashboard's pages, addressed by the URL's hash so the server serves one file. */
export type Route =
  | { page: 'list'; status: StatusFilter }
  | { page: 'detail'; id: string }
  | { page: 'results'; id: string }
  | { page: 'openai'; id: string }
  | { page: 'create' }
  | { page: 'backends' }
  | { page: 'webhooks' }
  | { page: 'key' };

const STATUSES: readonly string[] = ['in_progress', 'canceling', 'ended'] satisfies MessageBatchProcessingStatus[];

function parseStatus(value: string | null): StatusFilter {
  return value !== null && STATUSES.includes(value) ? (value as MessageBatchProcessingStatus) : null;
}

export function parseRoute(hash: string): Route {
  const [path = '', search = ''] = hash.replace(/^#/, '').split('?');
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  const [first, id, sub] = parts;
  if (first === 'new' && parts.length === 1) return { page: 'create' };
  if (first === 'backends' && parts.length === 1) return { page: 'backends' };
  if (first === 'webhooks' && parts.length === 1) return { page: 'webhooks' };
  if (first === 'key' && parts.length === 1) return { page: 'key' };
  if (first === 'batches' && id !== undefined && parts.length === 2) return { page: 'detail', id };
  if (first === 'batches' && id !== undefined && sub === 'results' && parts.length === 3) return { page: 'results', id };
  if (first === 'openai' && id !== undefined && parts.length === 2) return { page: 'openai', id };
  return { page: 'list', status: parseStatus(new URLSearchParams(search).get('status')) };
}

export function href(route: Route): string {
  switch (route.page) {
    case 'list':
      return route.status === null ? '#/' : `#/?status=${route.status}`;
    case 'detail':
      return `#/batches/${encodeURIComponent(route.id)}`;
    case 'results':
      return `#/batches/${encodeURIComponent(route.id)}/results`;
    case 'openai':
      return `#/openai/${encodeURIComponent(route.id)}`;
    case 'create':
      return '#/new';
    case 'backends':
      return '#/backends';
    case 'webhooks':
      return '#/webhooks';
    case 'key':
      return '#/key';
  }
}
