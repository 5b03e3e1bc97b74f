import type { ProviderBatch } from '@batchd/sdk';
import { h } from './dom.js';
import { formatCount } from './format.js';

const COUNTS: Array<keyof ProviderBatch['request_counts']> = ['processing', 'succeeded', 'errored', 'canceled', 'expired'];

/** The provider batches a batch's requests went to (provider-batch backends); hidden while there are none. */
export function providerBatchesPanel(): { element: HTMLElement; update(batches: ProviderBatch[]): void } {
  const rows = h('tbody');
  const element = h(
    'section',
    { class: 'card card-wide', hidden: true, 'data-provider-batches': true },
    h('h2', {}, 'Provider batches'),
    h(
      'div',
      { class: 'table-wrap' },
      h('table', {}, h('thead', {}, h('tr', {}, h('th', {}, 'Provider id'), h('th', {}, 'Backend'), h('th', {}, 'State'), ...COUNTS.map((name) => h('th', {}, name)))), rows),
    ),
  );
  return {
    element,
    update(batches) {
      element.hidden = batches.length === 0;
      rows.replaceChildren(
        ...batches.map((batch) =>
          h(
            'tr',
            { 'data-provider-batch': batch.provider_batch_id ?? '' },
            h('td', { class: 'mono' }, batch.provider_batch_id ?? '(submitting)'),
            h('td', {}, batch.backend),
            h('td', { title: batch.failure ?? undefined }, batch.state),
            ...COUNTS.map((name) => h('td', {}, formatCount(batch.request_counts[name]))),
          ),
        ),
      );
    },
  };
}
