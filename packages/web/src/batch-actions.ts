import type { BatchdClient, MessageBatch } from '@batchd/sdk';
import { confirmAction } from './confirm-dialog.js';
import { h, on } from './dom.js';
import { errorBanner } from './error-banner.js';
import { setFlash } from './flash.js';
import { formatCount, totalRequests } from './format.js';
import { href } from './routes.js';

export interface BatchActions {
  element: HTMLElement;
  update(batch: MessageBatch): void;
}

/** Saves the raw JSONL of an ended batch's results as a file, fetched with the API key. */
async function downloadResults(client: BatchdClient, batch: MessageBatch & { results_url: string }): Promise<void> {
  const response = await client.request({ method: 'GET', path: batch.results_url, accept: 'application/binary' });
  const url = URL.createObjectURL(await response.blob());
  const link = h('a', { href: url, download: `${batch.id}_results.jsonl`, hidden: true });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

/**
 * The actions on one batch, each confirmed first: view its results (those so far while it runs),
 * cancel while it runs, and once it has ended, download its results and delete it. `onChanged`
 * is called after a cancel.
 */
export function batchActions(client: BatchdClient, initial: MessageBatch, feedback: HTMLElement, onChanged: () => void): BatchActions {
  let batch = initial;
  const results = h('a', { class: 'button', href: href({ page: 'results', id: batch.id }) }, 'View results');
  const download = h('button', { type: 'button', class: 'button' }, 'Download results');
  const cancel = h('button', { type: 'button', class: 'button button-danger-outline' }, 'Cancel batch');
  const remove = h('button', { type: 'button', class: 'button button-danger-outline' }, 'Delete batch');

  const act = async (button: HTMLButtonElement, work: () => Promise<void>) => {
    button.disabled = true;
    feedback.replaceChildren();
    try {
      await work();
    } catch (error) {
      feedback.replaceChildren(errorBanner(error));
    } finally {
      update(batch);
    }
  };

  on(cancel, 'click', async () => {
    const ok = await confirmAction({
      title: 'Cancel this batch?',
      message: `Requests not yet sent end as canceled; the ${formatCount(batch.request_counts.processing)} still processing may finish first. This cannot be undone.`,
      confirmLabel: 'Cancel batch',
      danger: true,
    });
    if (!ok) return;
    await act(cancel, async () => {
      batch = await client.messages.batches.cancel(batch.id);
      onChanged();
    });
  });
  on(remove, 'click', async () => {
    const ok = await confirmAction({
      title: 'Delete this batch?',
      message: `Batch ${batch.id} and its ${formatCount(totalRequests(batch.request_counts))} results will be deleted. This cannot be undone.`,
      confirmLabel: 'Delete batch',
      danger: true,
    });
    if (!ok) return;
    await act(remove, async () => {
      await client.messages.batches.delete(batch.id);
      setFlash(`Batch ${batch.id} was deleted.`);
      location.hash = href({ page: 'list', status: null });
    });
  });
  on(download, 'click', async () => {
    const { results_url } = batch;
    if (results_url === null) return;
    const ok = await confirmAction({
      title: 'Download the results?',
      message: `The ${formatCount(totalRequests(batch.request_counts))} results are saved as one JSONL file, one result per line.`,
      confirmLabel: 'Download',
    });
    if (!ok) return;
    await act(download, () => downloadResults(client, { ...batch, results_url }));
  });

  const update = (next: MessageBatch) => {
    batch = next;
    const ended = next.processing_status === 'ended';
    const hasResults = ended && next.results_url !== null && next.archived_at === null;
    results.hidden = !hasResults && (ended || next.archived_at !== null);
    download.disabled = !hasResults;
    cancel.disabled = next.processing_status !== 'in_progress';
    remove.disabled = !ended;
    cancel.title = cancel.disabled ? 'Only a batch in progress can be canceled' : '';
    remove.title = remove.disabled ? 'A batch can be deleted once it has ended' : '';
    download.title = download.disabled ? 'Results exist once the batch has ended' : '';
  };
  update(batch);
  return { element: h('div', { class: 'actions' }, results, download, cancel, remove), update };
}
