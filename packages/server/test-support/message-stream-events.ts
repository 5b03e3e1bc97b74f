import type { Message } from '@batchd/sdk';
import { expect } from 'vitest';

/* Reading the Messages API's server-sent events in tests, as a client would. */

export interface Event {
  type: string;
  [field: string]: unknown;
}

/** The events of a server-sent event stream, each checked to name its own type on its `event:` line. */
export function parseEvents(stream: string): Event[] {
  expect(stream.endsWith('\n\n')).toBe(true);
  return stream.slice(0, -2).split('\n\n').map((frame) => {
    const [name, data, ...rest] = frame.split('\n');
    expect(rest).toEqual([]);
    const event = JSON.parse(data!.replace(/^data: /, '')) as Event;
    expect(name).toBe(`event: ${event.type}`);
    return event;
  });
}

/** The message the events build up, as the Messages API's streaming guide describes accumulating them. */
export function accumulate(events: Event[]): Message {
  let message: Message | undefined;
  const json: string[] = [];
  for (const event of events) {
    if (event.type === 'message_start') message = structuredClone(event.message as Message);
    const index = event.index as number;
    const block = message?.content[index] as Record<string, unknown> | undefined;
    if (event.type === 'content_block_start') message!.content.push(event.content_block as Message['content'][number]);
    if (event.type === 'content_block_delta') {
      const delta = event.delta as { type: string; text?: string; partial_json?: string };
      if (delta.type === 'text_delta') block!.text = `${block!.text as string}${delta.text}`;
      else json[index] = (json[index] ?? '') + delta.partial_json;
    }
    if (event.type === 'content_block_stop' && json[index] !== undefined) block!.input = JSON.parse(json[index]!);
    if (event.type === 'message_delta') Object.assign(message!, event.delta, { usage: { ...message!.usage, ...(event.usage as object) } });
  }
  return message!;
}
