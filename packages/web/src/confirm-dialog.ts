import { h, on } from './dom.js';

export interface ConfirmOptions {
  title: string;
  message: string;
  confirmLabel: string;
  /** Styles the confirming button as destructive. */
  danger?: boolean;
}

/**
 * Asks for confirmation in a modal dialog. Resolves true when the confirming button is pressed,
 * false on the other button, Escape, or a click outside. Focus starts on the safe choice.
 */
export function confirmAction(options: ConfirmOptions): Promise<boolean> {
  return new Promise((resolve) => {
    const keep = h('button', { type: 'button', class: 'button', value: 'keep' }, 'Go back');
    const confirm = h('button', { type: 'button', class: `button ${options.danger ? 'button-danger' : 'button-primary'}` }, options.confirmLabel);
    const dialog = h(
      'dialog',
      { class: 'dialog', 'aria-labelledby': 'dialog-title' },
      h('h2', { id: 'dialog-title' }, options.title),
      h('p', {}, options.message),
      h('div', { class: 'form-actions' }, keep, confirm),
    );
    let answer = false;
    on(keep, 'click', () => dialog.close());
    on(confirm, 'click', () => {
      answer = true;
      dialog.close();
    });
    on(dialog, 'click', (event) => {
      if (event.target === dialog) dialog.close();
    });
    on(dialog, 'close', () => {
      dialog.remove();
      resolve(answer);
    });
    document.body.append(dialog);
    dialog.showModal();
    keep.focus();
  });
}
