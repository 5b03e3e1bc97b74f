import type { MessageBatch } from '@batchd/sdk';
import { h, setText } from './dom.js';
import { formatDateTime, formatRelative } from './format.js';

type TimelineField = 'created_at' | 'cancel_initiated_at' | 'ended_at' | 'expires_at' | 'archived_at';

const EVENTS: Array<{ field: TimelineField; label: string; pending: string }> = [
  { field: 'created_at', label: 'Created', pending: '' },
  { field: 'cancel_initiated_at', label: 'Cancel initiated', pending: 'not canceled' },
  { field: 'ended_at', label: 'Ended', pending: 'not yet' },
  { field: 'expires_at', label: 'Expires', pending: '' },
  { field: 'archived_at', label: 'Archived', pending: 'not yet' },
];

/** The batch's moments in order; past ones are marked, future and missing ones dimmed. */
export function batchTimeline(batch: MessageBatch, now: number): { element: HTMLElement; update(batch: MessageBatch, now: number): void } {
  const items = EVENTS.map((event) => {
    const when = h('time');
    const relative = h('span', { class: 'muted timeline-relative' });
    const element = h('li', { 'data-event': event.field }, h('span', { class: 'timeline-label' }, event.label), when, relative);
    return { event, element, when, relative };
  });
  const element = h('ol', { class: 'timeline' }, ...items.map((item) => item.element));
  const update = (next: MessageBatch, at: number) => {
    for (const { event, element: item, when, relative } of items) {
      const value = next[event.field];
      // Expiry only matters while the batch can still expire.
      const moot = event.field === 'expires_at' && next.ended_at !== null && value !== null && Date.parse(value) > Date.parse(next.ended_at);
      const past = value !== null && Date.parse(value) <= at && !moot;
      item.className = past ? 'done' : 'pending';
      if (value === null) {
        when.removeAttribute('datetime');
        setText(when, event.pending);
        setText(relative, '');
      } else {
        when.setAttribute('datetime', value);
        setText(when, formatDateTime(value));
        setText(relative, moot ? 'did not apply: ended first' : formatRelative(value, at));
      }
    }
  };
  update(batch, now);
  return { element, update };
}
