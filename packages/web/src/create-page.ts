import { h, on, yieldToBrowser } from './dom.js';
import { errorBanner } from './error-banner.js';
import { formatBytes, formatCount } from './format.js';
import { createBody, validateJsonl, type Validation } from './jsonl-validation.js';
import { href } from './routes.js';
import { apiClient } from './session.js';

const EXAMPLE = JSON.stringify({
  custom_id: 'question-1',
  params: { model: 'claude-sonnet-4-6', max_tokens: 256, messages: [{ role: 'user', content: 'Hello' }] },
});

function errorList(validation: Validation): HTMLElement {
  const hidden = validation.errorCount - validation.errors.length;
  return h(
    'div',
    { class: 'banner banner-error validation-errors', role: 'alert' },
    h('p', {}, `${formatCount(validation.errorCount)} ${validation.errorCount === 1 ? 'problem' : 'problems'} found; nothing was uploaded.`),
    h(
      'ul',
      {},
      ...validation.errors.map((error) =>
        h('li', { 'data-line': error.line ?? 'file' }, h('strong', {}, error.line === null ? 'File' : `Line ${error.line}`), `: ${error.message}`),
      ),
    ),
    hidden > 0 ? h('p', {}, `…and ${formatCount(hidden)} more.`) : null,
  );
}

/** Creates a batch from a dropped or chosen JSONL file, checked in the browser before upload. */
export function mountCreatePage(main: HTMLElement): void {
  const client = apiClient();
  const input = h('input', { id: 'jsonl-file', type: 'file', accept: '.jsonl,.ndjson,.json,.txt,application/x-jsonl', class: 'visually-hidden' });
  const zone = h(
    'label',
    { class: 'dropzone', for: 'jsonl-file' },
    h('span', { class: 'dropzone-title' }, 'Drop a JSONL file here'),
    h('span', { class: 'muted' }, 'or'),
    h('span', { class: 'button' }, 'Choose a file'),
    input,
  );
  const outcome = h('div', { class: 'create-outcome', 'aria-live': 'polite' });

  const upload = async (button: HTMLButtonElement, lines: string[]) => {
    button.disabled = true;
    button.textContent = 'Uploading…';
    try {
      const batch = await client.messages.batches.createFromJSON(createBody(lines));
      location.hash = href({ page: 'detail', id: batch.id });
    } catch (error) {
      outcome.append(errorBanner(error));
      button.disabled = false;
      button.textContent = 'Try again';
    }
  };

  const check = async (file: File) => {
    outcome.replaceChildren(h('p', { class: 'muted' }, `Checking ${file.name}…`));
    await yieldToBrowser();
    const validation = validateJsonl(await file.text());
    const summary = h(
      'p',
      { class: 'file-summary' },
      h('strong', {}, file.name),
      ` · ${formatCount(validation.requestLines)} ${validation.requestLines === 1 ? 'line' : 'lines'} · ${formatBytes(file.size)}`,
    );
    if (validation.errorCount > 0) {
      outcome.replaceChildren(summary, errorList(validation));
      return;
    }
    const count = validation.lines.length;
    const button = h('button', { type: 'button', class: 'button button-primary' }, `Create batch of ${formatCount(count)} ${count === 1 ? 'request' : 'requests'}`);
    on(button, 'click', () => void upload(button, validation.lines));
    outcome.replaceChildren(summary, h('div', { class: 'banner banner-ok', role: 'status' }, 'Every line is a valid request.'), button);
    button.focus();
  };

  on(input, 'change', () => {
    const file = input.files?.[0];
    if (file) void check(file);
  });
  on(zone, 'dragover', (event) => {
    event.preventDefault();
    zone.classList.add('dragging');
  });
  on(zone, 'dragleave', () => zone.classList.remove('dragging'));
  on(zone, 'drop', (event) => {
    event.preventDefault();
    zone.classList.remove('dragging');
    const file = event.dataTransfer?.files[0];
    if (file) void check(file);
  });

  main.replaceChildren(
    h(
      'section',
      { class: 'page page-narrow' },
      h('h1', {}, 'New batch'),
      h(
        'p',
        { class: 'lead' },
        'A JSONL file holds one request per line: a ',
        h('code', {}, 'custom_id'),
        ' and the ',
        h('code', {}, 'params'),
        ' of a Messages request. It is checked here before anything is uploaded.',
      ),
      zone,
      outcome,
      h('details', { class: 'example' }, h('summary', {}, 'Example line'), h('pre', { class: 'code' }, EXAMPLE)),
    ),
  );
}
