import { h, setText } from './dom.js';
import type { OpenAIBatch } from './openai-api.js';

/** The badge colour of each OpenAI status: running, winding down, or over. */
const TONE: Record<OpenAIBatch['status'], string> = {
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
export function openAIStatusBadge(status: OpenAIBatch['status']): { element: HTMLElement; update(status: OpenAIBatch['status']): void } {
  const element = h('span', { class: 'badge' });
  const update = (next: OpenAIBatch['status']) => {
    element.className = `badge badge-${TONE[next]}`;
    element.dataset['status'] = next;
    setText(element, next.replace('_', ' '));
  };
  update(status);
  return { element, update };
}
