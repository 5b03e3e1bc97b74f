import type { OpenAIBatchStatus } from '@batchd/sdk';
import { h, setText } from './dom.js';

/** The badge colour of each OpenAI status: running, winding down, or over. */
const TONE: Record<OpenAIBatchStatus, string> = {
  validating: 'in_progress',
  in_progress: 'in_progress',
  finalizing: 'in_progress',
  cancelling: 'canceling',
  completed: 'ended',
  cancelled: 'ended',
  expired: 'ended',
  failed: 'failed',
};

/** The badge marking a batch made through the OpenAI Batch API. */
export function dialectBadge(): HTMLElement {
  return h('span', { class: 'badge badge-dialect', title: 'Created through the OpenAI Batch API' }, 'OpenAI');
}

/** A coloured label of an OpenAI batch's status; `update` changes it in place. */
export function openAIStatusBadge(status: OpenAIBatchStatus): { element: HTMLElement; update(status: OpenAIBatchStatus): void } {
  const element = h('span', { class: 'badge' });
  const update = (next: OpenAIBatchStatus) => {
    element.className = `badge badge-${TONE[next]}`;
    element.dataset['status'] = next;
    setText(element, next.replace('_', ' '));
  };
  update(status);
  return { element, update };
}
