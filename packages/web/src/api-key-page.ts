import { h, on } from './dom.js';
import { forgetApiKey, saveApiKey, storedApiKey } from './session.js';

/**
 * API key entry. The key is kept in this browser's local storage and sent with every API call.
 * `required` is set when another page was asked for without a key; `onSaved` then shows it.
 */
export function mountApiKeyPage(main: HTMLElement, options: { required: boolean; onSaved(): void }): void {
  const stored = storedApiKey();
  const input = h('input', {
    id: 'api-key',
    name: 'api-key',
    type: 'password',
    autocomplete: 'off',
    spellcheck: 'false',
    required: true,
    placeholder: stored ? 'A key is saved; enter a new one to replace it' : 'Your batchd API key',
  });
  const status = h('p', { class: 'form-status', role: 'status' }, stored ? 'A key is saved in this browser.' : 'No key is saved yet.');
  const forget = on(h('button', { type: 'button', class: 'button', disabled: stored === null }, 'Forget key'), 'click', () => {
    forgetApiKey();
    forget.disabled = true;
    status.textContent = 'The key was removed from this browser.';
    input.placeholder = 'Your batchd API key';
  });
  const form = on(
    h(
      'form',
      { class: 'card form' },
      h('label', { for: 'api-key' }, 'API key'),
      input,
      h('div', { class: 'form-actions' }, h('button', { type: 'submit', class: 'button button-primary' }, 'Save key'), forget),
      status,
    ),
    'submit',
    (event) => {
      event.preventDefault();
      if (input.value.trim() === '') return;
      saveApiKey(input.value);
      input.value = '';
      options.onSaved();
    },
  );
  main.replaceChildren(
    h(
      'section',
      { class: 'page page-narrow' },
      h('h1', {}, 'API key'),
      options.required ? h('div', { class: 'banner banner-info', role: 'status' }, 'Enter an API key to use the dashboard.') : null,
      h(
        'p',
        { class: 'lead' },
        'The dashboard calls the batchd API with this key, sent as the x-api-key header to this server only. It is kept in this browser’s local storage.',
      ),
      form,
    ),
  );
  input.focus();
}
