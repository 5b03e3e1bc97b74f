import { h, on } from './dom.js';

/** Rows drawn beyond the visible ones on each side, so scrolling does not show gaps. */
const OVERSCAN = 8;
/** The most rows in the DOM at once, whatever the height of the viewport. */
const MAX_DOM_ROWS = 120;

export interface VirtualListOptions {
  rowHeight: number;
  label: string;
  /** The button for the row at `position`; called only for rows being drawn. */
  renderRow(position: number): HTMLButtonElement;
  onSelect(position: number): void;
}

export interface VirtualList {
  element: HTMLElement;
  /** Sets the number of rows. With `redraw`, rows already drawn are rebuilt (the data behind them changed). */
  setCount(count: number, redraw: boolean): void;
  /** The rows in the DOM now, by position. */
  drawnRows(): ReadonlyMap<number, HTMLButtonElement>;
}

/**
 * A scrolling list that only keeps the visible rows (and a few around them) in the DOM, so it
 * stays fast with a hundred thousand rows. Rows are buttons; arrow keys move between them.
 */
export function virtualList(options: VirtualListOptions): VirtualList {
  const { rowHeight } = options;
  const spacer = h('div', { class: 'vlist-spacer' });
  const element = h('div', { class: 'vlist', role: 'region', 'aria-label': options.label, tabindex: -1 }, spacer);
  let count = 0;
  const drawn = new Map<number, HTMLButtonElement>();
  let frame = 0;

  const draw = () => {
    frame = 0;
    const top = element.scrollTop;
    const height = element.clientHeight || rowHeight * 10;
    const first = Math.max(0, Math.floor(top / rowHeight) - OVERSCAN);
    const last = Math.min(count, Math.ceil((top + height) / rowHeight) + OVERSCAN, first + MAX_DOM_ROWS);
    for (const [position, row] of drawn) {
      if (position < first || position >= last) {
        row.remove();
        drawn.delete(position);
      }
    }
    for (let position = first; position < last; position++) {
      if (drawn.has(position)) continue;
      const row = options.renderRow(position);
      row.classList.add('vlist-row');
      row.style.top = `${position * rowHeight}px`;
      row.style.height = `${rowHeight}px`;
      row.dataset['position'] = String(position);
      on(row, 'click', () => options.onSelect(position));
      drawn.set(position, row);
      spacer.append(row);
    }
  };
  const schedule = () => {
    if (frame === 0) frame = requestAnimationFrame(draw);
  };

  on(element, 'scroll', schedule);
  on(element, 'keydown', (event) => {
    if (event.key !== 'ArrowDown' && event.key !== 'ArrowUp') return;
    const current = Number((document.activeElement as HTMLElement | null)?.dataset['position'] ?? -1);
    const next = Math.min(count - 1, Math.max(0, current + (event.key === 'ArrowDown' ? 1 : -1)));
    if (current < 0 || next === current) return;
    event.preventDefault();
    const offset = next * rowHeight;
    if (offset < element.scrollTop) element.scrollTop = offset;
    else if (offset + rowHeight > element.scrollTop + element.clientHeight) element.scrollTop = offset + rowHeight - element.clientHeight;
    draw();
    drawn.get(next)?.focus();
  });

  return {
    element,
    setCount(next, redraw) {
      count = next;
      spacer.style.height = `${count * rowHeight}px`;
      if (redraw) {
        for (const row of drawn.values()) row.remove();
        drawn.clear();
        element.scrollTop = 0;
        draw();
      } else {
        schedule();
      }
    },
    drawnRows: () => drawn,
  };
}
