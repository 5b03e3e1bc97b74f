import type { MessageBatch } from '@batchd/sdk';
import { batchActions, type BatchActions } from './batch-actions.js';
import { batchTimeline } from './batch-timeline.js';
import { h, setText } from './dom.js';
import { errorBanner } from './error-banner.js';
import { averageThroughput, doneRequests, formatCount, formatRate, totalRequests } from './format.js';
import { startPolling } from './poller.js';
import { countsLegend, progressBar } from './progress-bar.js';
import { apiClient } from './session.js';
import { statusBadge } from './status-badge.js';
import { throughputChart } from './throughput-chart.js';
import { usagePanel } from './usage-panel.js';
import { providerBatchesPanel } from './provider-batches-panel.js';

/** Polls once a second while the batch runs, then slowly (it can still be archived or deleted). */
const RUNNING_POLL_MS = 1000;
const ENDED_POLL_MS = 5000;

function card(title: string, ...children: Node[]): HTMLElement {
  return h('section', { class: 'card' }, h('h2', {}, title), ...children);
}

/** One batch: counts, timeline, usage, a throughput chart sampled while open, and its actions. */
export function mountBatchDetailPage(main: HTMLElement, id: string): () => void {
  const client = apiClient();
  const banner = h('div');
  const feedback = h('div');
  const body = h('div', { class: 'detail-body' }, h('p', { class: 'muted' }, 'Loading…'));
  const chart = throughputChart();
  const usage = usagePanel();
  const providerBatches = providerBatchesPanel();
  let view: { update(batch: MessageBatch, now: number): void } | undefined;
  let ended = false;

  const build = (batch: MessageBatch, now: number) => {
    const badge = statusBadge(batch.processing_status);
    const bar = progressBar(batch.request_counts);
    const legend = countsLegend(batch.request_counts);
    const timeline = batchTimeline(batch, now);
    const summary = h('p', { class: 'big-number' });
    const actions: BatchActions = batchActions(client, batch, feedback, () => poller.refresh());
    body.replaceChildren(
      h('div', { class: 'title-row' }, h('h1', { class: 'mono batch-id' }, batch.id), badge.element),
      actions.element,
      feedback,
      h(
        'div',
        { class: 'grid' },
        card('Requests', summary, bar.element, legend.element),
        card('Timeline', timeline.element),
        card('Usage', usage.element),
        h('section', { class: 'card card-wide' }, h('h2', {}, 'Throughput'), chart.element),
        providerBatches.element,
      ),
    );
    return {
      update(next: MessageBatch, at: number) {
        badge.update(next.processing_status);
        bar.update(next.request_counts);
        legend.update(next.request_counts);
        timeline.update(next, at);
        actions.update(next);
        const total = totalRequests(next.request_counts);
        setText(summary, `${formatCount(doneRequests(next.request_counts))} of ${formatCount(total)} requests done`);
      },
    };
  };

  const poller = startPolling(
    async (signal) => {
      const [batch, totals, provider] = await Promise.all([
        client.messages.batches.retrieve(id, { signal }),
        client.messages.batches.usage(id, { signal }),
        client.messages.batches.providerBatches(id, { signal }),
      ]);
      const now = Date.now();
      if (view === undefined) {
        view = build(batch, now);
        if (batch.processing_status === 'ended') {
          const average = averageThroughput(batch, now);
          chart.setNote(`This batch ended before the page was opened${average === null ? '.' : `; it averaged ${formatRate(average)}.`}`);
        }
      }
      // Sample while it runs, and once more as it ends so the last stretch is drawn.
      if (!ended) chart.addSample(doneRequests(batch.request_counts), now);
      ended = batch.processing_status === 'ended';
      view.update(batch, now);
      usage.update(totals);
      providerBatches.update(provider.data);
      banner.replaceChildren();
    },
    () => (ended ? ENDED_POLL_MS : RUNNING_POLL_MS),
    (error) => banner.replaceChildren(errorBanner(error)),
  );

  main.replaceChildren(h('section', { class: 'page' }, h('a', { href: '#/', class: 'back' }, '← All batches'), banner, body));
  return () => {
    poller.stop();
    chart.dispose();
  };
}
