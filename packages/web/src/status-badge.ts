import type { MessageBatchProcessingStatus } from '@batchd/sdk';
import { h, setText } from './dom.js';

const LABELS: Record<MessageBatchProcessingStatus, string> = {
  in_progress: 'in progress',
  canceling: 'canceling',
  ended: 'ended',
};

/** A coloured label of a batch's processing status; `update` changes it in place. */
export function statusBadge(status: MessageBatchProcessingStatus): { element: HTMLElement; update(status: MessageBatchProcessingStatus): void } {
  const element = h('span', { class: 'badge' });
  const update = (next: MessageBatchProcessingStatus) => {
    element.className = `badge badge-${next}`;
    element.dataset['status'] = next;
    setText(element, LABELS[next]);
  };
  update(status);
  return { element, update };
}
