import { field, h, on, setText, yieldToBrowser } from './dom.js';
import { errorBanner, isAbort } from './error-banner.js';
import { formatCount } from './format.js';
import { matcher, parseRecord, RESULT_TYPES, toRecord, type ResultFilter, type ResultRecord, type ResultType } from './result-records.js';
import { resultView } from './result-view.js';
import { href } from './routes.js';
import { apiClient } from './session.js';
import { virtualList } from './virtual-list.js';

const ROW_HEIGHT = 44;
/** How long decoding may hold the main thread before the page is redrawn and input handled. */
const SLICE_MS = 30;

/**
 * The results of a batch, streamed in as the server sends them; while the batch runs, each result
 * appears as it finishes, until the batch has ended. The list is virtual, so a batch of a hundred
 * thousand results keeps only a screenful of rows in the DOM.
 */
export function mountResultsPage(main: HTMLElement, id: string): () => void {
  const client = apiClient();
  const controller = new AbortController();
  const records: ResultRecord[] = [];
  const counts: Record<ResultType, number> = { succeeded: 0, errored: 0, canceled: 0, expired: 0 };
  let wanted = matcher({ type: null, search: '' });
  let matches: number[] = [];
  let selected: number | null = null;
  let loading = true;

  const search = h('input', { id: 'result-search', type: 'search', placeholder: 'custom_id contains…', autocomplete: 'off', spellcheck: 'false' });
  const typeSelect = h('select', { id: 'result-type' });
  const typeOptions = [null, ...RESULT_TYPES].map((type) => h('option', { value: type ?? '' }));
  typeSelect.append(...typeOptions);
  const status = h('p', { class: 'muted results-status', role: 'status' }, 'Loading results…');
  const banner = h('div');
  const viewer = h('div', { class: 'results-viewer' }, h('p', { class: 'muted placeholder' }, 'Choose a result to read it.'));

  const markSelected = () => {
    for (const [position, row] of list.drawnRows()) row.setAttribute('aria-pressed', String(matches[position] === selected));
  };
  const list = virtualList({
    rowHeight: ROW_HEIGHT,
    label: 'Results',
    renderRow(position) {
      const index = matches[position] ?? 0;
      const record = records[index]!;
      return h(
        'button',
        { type: 'button', class: 'result-row', 'aria-pressed': String(index === selected), 'data-custom-id': record.customId },
        h('span', { class: 'mono result-id' }, record.customId),
        h('span', { class: `badge badge-result-${record.type}` }, record.type),
        h('span', { class: 'result-preview' }, record.preview),
      );
    },
    onSelect(position) {
      const index = matches[position];
      if (index === undefined) return;
      selected = index;
      markSelected();
      viewer.replaceChildren(resultView(parseRecord(records[index]!)));
      if (window.matchMedia('(max-width: 760px)').matches) viewer.scrollIntoView({ block: 'start' });
    },
  });

  const showCounts = () => {
    typeOptions.forEach((option, i) => {
      const type = i === 0 ? null : RESULT_TYPES[i - 1]!;
      setText(option, type === null ? `All types (${formatCount(records.length)})` : `${type} (${formatCount(counts[type])})`);
    });
    const shown = `${formatCount(matches.length)} shown`;
    setText(status, loading ? `Loading… ${formatCount(records.length)} results so far, ${shown}` : `${formatCount(records.length)} results, ${shown}`);
  };
  const applyFilter = () => {
    const filter: ResultFilter = { type: (typeSelect.value || null) as ResultType | null, search: search.value };
    wanted = matcher(filter);
    matches = [];
    records.forEach((record, index) => {
      if (wanted(record)) matches.push(index);
    });
    list.setCount(matches.length, true);
    showCounts();
  };
  on(typeSelect, 'change', applyFilter);
  on(search, 'input', applyFilter);

  const redraw = () => {
    list.setCount(matches.length, false);
    showCounts();
  };
  // Redraws once the results that arrived together are in, e.g. while waiting for the next ones.
  let redrawQueued = false;
  const redrawSoon = () => {
    if (redrawQueued) return;
    redrawQueued = true;
    setTimeout(() => {
      redrawQueued = false;
      redraw();
    });
  };

  const stream = async () => {
    const batch = await client.messages.batches.retrieve(id, { signal: controller.signal });
    const running = batch.processing_status !== 'ended';
    if (running) {
      banner.replaceChildren(h('div', { class: 'banner banner-info', role: 'status' }, 'This batch is still running: results appear here as they finish.'));
    }
    const results = await client.messages.batches.results(id, { partial: running, follow: running }, { signal: controller.signal });
    let sliceStart = performance.now();
    for await (const item of results) {
      const record = toRecord(item);
      records.push(record);
      counts[record.type]++;
      if (wanted(record)) matches.push(records.length - 1);
      redrawSoon();
      if (performance.now() - sliceStart > SLICE_MS) {
        redraw();
        await yieldToBrowser();
        sliceStart = performance.now();
      }
    }
    loading = false;
    banner.replaceChildren();
    redraw();
  };
  stream().catch((error: unknown) => {
    if (isAbort(error) || controller.signal.aborted) return;
    loading = false;
    showCounts();
    banner.replaceChildren(errorBanner(error));
  });

  main.replaceChildren(
    h(
      'section',
      { class: 'page' },
      h('a', { href: href({ page: 'detail', id }), class: 'back' }, '← Batch'),
      h('div', {}, h('h1', {}, 'Results'), h('p', { class: 'mono muted subtitle' }, id)),
      h('div', { class: 'toolbar' }, field('Search custom_id', search), field('Result type', typeSelect)),
      status,
      banner,
      h('div', { class: 'results-layout' }, list.element, viewer),
    ),
  );
  showCounts();
  return () => controller.abort();
}
