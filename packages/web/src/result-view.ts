import type { ContentBlock, Message, MessageBatchIndividualResponse } from '@batchd/sdk';
import { h, on } from './dom.js';
import { formatCount } from './format.js';

function jsonBlock(value: unknown): HTMLElement {
  return h('pre', { class: 'code' }, JSON.stringify(value, null, 2));
}

function contentBlock(block: ContentBlock): HTMLElement {
  if (block.type === 'text' && typeof block['text'] === 'string') {
    return h('div', { class: 'text-block' }, block['text']);
  }
  if (block.type === 'tool_use') {
    return h('div', { class: 'tool-block' }, h('p', { class: 'block-label' }, `Tool call: ${String(block['name'])}`), jsonBlock(block['input']));
  }
  if (block.type === 'thinking' && typeof block['thinking'] === 'string') {
    return h('details', { class: 'thinking-block' }, h('summary', {}, 'Thinking'), h('div', { class: 'text-block' }, block['thinking']));
  }
  return h('div', { class: 'tool-block' }, h('p', { class: 'block-label' }, `${block.type} block`), jsonBlock(block));
}

function messageView(message: Message): HTMLElement[] {
  const facts: Array<[string, string]> = [
    ['Model', message.model],
    ['Stop reason', message.stop_reason ?? '—'],
    ['Input tokens', formatCount(message.usage.input_tokens)],
    ['Output tokens', formatCount(message.usage.output_tokens)],
    ['Message id', message.id],
  ];
  return [
    h('dl', { class: 'facts' }, ...facts.map(([term, value]) => h('div', {}, h('dt', {}, term), h('dd', {}, value)))),
    h('div', { class: 'message-content' }, ...message.content.map(contentBlock)),
  ];
}

/** The JSON of a result, built only when the reader opens it. */
function jsonOnDemand(item: MessageBatchIndividualResponse): HTMLElement {
  const code = h('pre', { class: 'code' });
  const details = h('details', { class: 'json-toggle' }, h('summary', {}, 'Show JSON'), code);
  on(details, 'toggle', () => {
    if (details.open && code.textContent === '') code.textContent = JSON.stringify(item, null, 2);
  });
  return details;
}

/** One result shown for reading: a message's text and tool calls, or an error's type and message. */
export function resultView(item: MessageBatchIndividualResponse): HTMLElement {
  const { result } = item;
  const body: HTMLElement[] = [];
  switch (result.type) {
    case 'succeeded':
      body.push(...messageView(result.message));
      break;
    case 'errored': {
      const { error, request_id: requestId } = result.error;
      body.push(
        h(
          'div',
          { class: 'error-box', role: 'group', 'aria-label': 'Error' },
          h('p', { class: 'error-type' }, error.type),
          h('p', { class: 'error-message' }, error.message),
          requestId ? h('p', { class: 'muted' }, `Request ${requestId}`) : null,
        ),
      );
      break;
    }
    case 'canceled':
      body.push(h('p', {}, 'This request was not sent: the batch was canceled first.'));
      break;
    case 'expired':
      body.push(h('p', {}, 'This request was not sent before the batch expired.'));
      break;
  }
  return h(
    'article',
    { class: 'result-view', 'aria-label': `Result ${item.custom_id}` },
    h('header', { class: 'result-header' }, h('h2', { class: 'mono' }, item.custom_id), h('span', { class: `badge badge-result-${result.type}` }, result.type)),
    ...body,
    jsonOnDemand(item),
  );
}
