import type { Message } from '@batchd/sdk';
import { isObject, type Json } from '../../json.js';
import { messageToChatCompletion } from '../../translate/message-to-chat.js';
import { ChunkWriter, roleDelta, toolCallDeltas } from '../../wire/chat-chunks.js';
import { chatErrorBody } from '../../wire/openai-error.js';
import { sseData, StreamFailure } from '../sse-data.js';

/** A Message put together from the events the Messages API streams, as the Anthropic SDK's `MessageStream` does. */
class StreamedMessage {
  message: Json | undefined;
  /** Content blocks by the index the events give them (a map: an index is the provider's word, however large). */
  readonly #blocks = new Map<number, Json>();
  /** The `input_json_delta` pieces of each `tool_use` block, joined. */
  readonly #inputs = new Map<number, string>();
  stopped = false;

  /** Adds an event; answers the text it adds, or throws why the stream cannot be read. */
  add(event: Json): string {
    switch (event.type) {
      case 'message_start':
        if (!isObject(event.message) || typeof event.message.id !== 'string') throw new StreamFailure('invalid response body: message_start has no message');
        this.message = { ...event.message, content: [], usage: isObject(event.message.usage) ? event.message.usage : {} };
        return '';
      case 'content_block_start':
        if (typeof event.index === 'number' && isObject(event.content_block)) this.#blocks.set(event.index, { ...event.content_block });
        return '';
      case 'content_block_delta':
        return this.#delta(event);
      case 'content_block_stop':
        if (typeof event.index === 'number') this.#endBlock(event.index);
        return '';
      case 'message_delta':
        if (this.message && isObject(event.delta)) Object.assign(this.message, event.delta);
        if (this.message && isObject(event.usage)) this.message.usage = { ...(isObject(this.message.usage) ? this.message.usage : {}), ...event.usage };
        return '';
      case 'message_stop':
        this.stopped = true;
        return '';
      case 'error': {
        const error = isObject(event.error) ? event.error : {};
        const message = typeof error.message === 'string' ? error.message : 'the provider reported an error during the stream';
        throw new StreamFailure(message, typeof error.type === 'string' ? error.type : undefined);
      }
      default:
        return '';
    }
  }

  #delta(event: Json): string {
    const block = typeof event.index === 'number' ? this.#blocks.get(event.index) : undefined;
    const delta = isObject(event.delta) ? event.delta : {};
    if (!block) return '';
    if (delta.type === 'text_delta' && typeof delta.text === 'string' && block.type === 'text') {
      block.text = `${typeof block.text === 'string' ? block.text : ''}${delta.text}`;
      return delta.text;
    }
    if (delta.type === 'input_json_delta' && typeof delta.partial_json === 'string') {
      this.#inputs.set(event.index as number, (this.#inputs.get(event.index as number) ?? '') + delta.partial_json);
    }
    return '';
  }

  #endBlock(index: number): void {
    const block = this.#blocks.get(index);
    const input = this.#inputs.get(index);
    if (!block || input === undefined) return;
    try {
      block.input = input === '' ? {} : (JSON.parse(input) as unknown);
    } catch {
      throw new StreamFailure('invalid response body: a tool_use input is not JSON');
    }
  }

  /** The Message the events made, its blocks in index order. */
  whole(): Message {
    const content = [...this.#blocks].sort(([a], [b]) => a - b).map(([, block]) => block);
    return { ...this.message, content } as unknown as Message;
  }
}

/** The chunks ending a stream whose `message_stop` came: tool calls, the finish reason, the usage when asked, `[DONE]`. */
function endChunks(streamed: StreamedMessage, writer: ChunkWriter, created: number): string[] {
  const completion = messageToChatCompletion(streamed.whole(), { created }) as unknown as Json & { choices: Json[] };
  const choice = completion.choices[0]!;
  const calls = toolCallDeltas(isObject(choice.message) ? choice.message : {}).map((delta) => writer.delta(0, delta));
  return [...calls, writer.finish(0, choice), ...writer.end(completion.usage)];
}

/**
 * The Messages API's streamed Message (as the Anthropic API sends it) as the chat completions API
 * streams, as the events come: the role chunk at `message_start`, each `text_delta` as a content
 * chunk as it arrives. At `message_stop` the events, put together, are the Message the same call
 * answers whole, and `messageToChatCompletion` turns it into its completion: its tool calls follow
 * (id and name, then arguments), then the finish reason, the usage when `includeUsage` asks, and
 * `data: [DONE]`. The provider's `error` event, a stream that breaks off or passes `maxBytes`, or
 * events that do not make a Message end with an error chunk (`data: {"error": …}`), which OpenAI's
 * clients raise.
 */
export async function* messageEventsToChatChunks(body: AsyncIterable<Buffer>, options: { created: number; includeUsage: boolean }, maxBytes: number): AsyncGenerator<string> {
  const streamed = new StreamedMessage();
  let writer: ChunkWriter | undefined;
  let tail: string[];
  try {
    for await (const data of sseData(body, maxBytes)) {
      let event: unknown;
      try {
        event = JSON.parse(data);
      } catch {
        throw new StreamFailure('invalid response body: an event is not JSON');
      }
      if (!isObject(event)) throw new StreamFailure('invalid response body: an event is not an object');
      const text = streamed.add(event);
      if (!writer && streamed.message) {
        writer = new ChunkWriter(messageToChatCompletion(streamed.whole(), { created: options.created }) as unknown as Json, options.includeUsage);
        yield writer.delta(0, roleDelta({ content: '' }));
      }
      if (writer && text !== '') yield writer.delta(0, { content: text });
      if (streamed.stopped) break;
    }
    if (!streamed.stopped || !writer) throw new StreamFailure("the server's stream ended before message_stop");
    tail = endChunks(streamed, writer, options.created);
  } catch (error) {
    const failure = error instanceof StreamFailure ? error : new StreamFailure(error instanceof Error ? error.message : String(error));
    tail = [`data: ${JSON.stringify(chatErrorBody(failure.errorType, failure.message))}\n\n`];
  }
  yield* tail;
}
