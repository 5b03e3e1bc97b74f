import { isObject, type Json } from '../../json.js';
import { fromOpenAI, type FromOpenAIRequest } from '../../translate/from-openai.js';
import { blockEvents, messageEndEvents, messageStartEvent, sseEvent } from '../../wire/message-events.js';
import { sseData } from '../sse-data.js';

interface ChunkedCall {
  id?: string;
  type: 'function';
  function: { name: string; arguments: string };
}

/** The first choice of a streamed chat completion, put together from its chunks as OpenAI's clients do. */
class ChunkedCompletion {
  readonly head: Json = {};
  content = '';
  refusal: string | null = null;
  /** Tool calls by the index the chunks give them (a map: an index is the server's word, however large). */
  readonly calls = new Map<number, ChunkedCall>();
  /** The choice's fields besides its message: `finish_reason`, and a server's own (vLLM's `stop_reason`). */
  readonly choice: Json = {};
  usage: unknown;

  /** Adds a chunk; answers the text it adds to the first choice's content. */
  add(chunk: Json): string {
    for (const name of ['id', 'created', 'model', 'system_fingerprint']) if (this.head[name] === undefined && chunk[name] !== undefined) this.head[name] = chunk[name];
    if (isObject(chunk.usage)) this.usage = chunk.usage;
    const choice = Array.isArray(chunk.choices) ? chunk.choices.find((item) => isObject(item) && (item.index ?? 0) === 0) : undefined;
    if (!isObject(choice)) return '';
    const { delta, index: _index, logprobs: _logprobs, ...rest } = choice;
    for (const [name, value] of Object.entries(rest)) if (value !== null && value !== undefined) this.choice[name] = value;
    if (!isObject(delta)) return '';
    if (typeof delta.refusal === 'string') this.refusal = (this.refusal ?? '') + delta.refusal;
    if (Array.isArray(delta.tool_calls)) for (const part of delta.tool_calls) if (isObject(part)) this.#addCall(part);
    const text = typeof delta.content === 'string' ? delta.content : '';
    this.content += text;
    return text;
  }

  #addCall(part: Json): void {
    const index = typeof part.index === 'number' ? part.index : this.calls.size;
    const call = this.calls.get(index) ?? { type: 'function', function: { name: '', arguments: '' } };
    this.calls.set(index, call);
    const fn = isObject(part.function) ? part.function : {};
    if (typeof part.id === 'string') call.id = part.id;
    if (typeof fn.name === 'string' && fn.name !== '') call.function.name = fn.name;
    if (typeof fn.arguments === 'string') call.function.arguments += fn.arguments;
  }

  /** A completion with the chunks' id and model and nothing else: the message `message_start` carries. */
  started(): Json {
    return { ...this.head, object: 'chat.completion', choices: [{ index: 0, message: { role: 'assistant', content: '' }, finish_reason: null }] };
  }

  /** The completion the chunks make up. */
  completion(): Json {
    const message: Json = { role: 'assistant', content: this.content };
    if (this.refusal !== null) message.refusal = this.refusal;
    if (this.calls.size > 0) message.tool_calls = [...this.calls].sort(([a], [b]) => a - b).map(([, call]) => call);
    return { ...this.head, object: 'chat.completion', choices: [{ index: 0, message, finish_reason: null, ...this.choice }], usage: this.usage };
  }
}

function errorEvent(message: string): string {
  return sseEvent('error', { error: { type: 'api_error', message } });
}

/**
 * An OpenAI-compatible server's streamed chat completion (`chat.completion.chunk` events, then
 * `data: [DONE]`) as the Messages API streams, as the chunks come: `message_start` at the first
 * chunk, the first choice's text as `text_delta`s of a text block as it arrives. At the end the
 * chunks, put together, are the completion the same call answers whole, and `fromOpenAI` turns
 * them into its message: its other blocks (tool calls, their input parsed) follow whole, then
 * `message_delta` with its stop reason and usage, and `message_stop`. A server's `error` chunk, a
 * stream that breaks off or passes `maxBytes`, or a completion with no translation ends with an
 * `error` event (`api_error`), as the Messages API reports a failure during a stream.
 */
export async function* chatChunksToMessageEvents(body: AsyncIterable<Buffer>, request: FromOpenAIRequest, maxBytes: number): AsyncGenerator<string> {
  const chunks = new ChunkedCompletion();
  let started = false;
  /** The text sent so far, in the text block at index 0. */
  let streamed = '';
  let failure: string | undefined;
  try {
    for await (const data of sseData(body, maxBytes)) {
      if (data === '[DONE]') break;
      let chunk: unknown;
      try {
        chunk = JSON.parse(data);
      } catch {
        failure = 'invalid response body: a chunk is not JSON';
        break;
      }
      if (!isObject(chunk) || isObject(chunk.error)) {
        failure = isObject(chunk) && isObject(chunk.error) && typeof chunk.error.message === 'string' ? chunk.error.message : 'invalid response body: a chunk is not an object';
        break;
      }
      const text = chunks.add(chunk);
      const start = started ? undefined : fromOpenAI(chunks.started(), request);
      if (start && 'message' in start) yield messageStartEvent(start.message);
      started = true;
      if (text === '') continue;
      if (streamed === '') yield sseEvent('content_block_start', { index: 0, content_block: { type: 'text', text: '', citations: null } });
      streamed += text;
      yield sseEvent('content_block_delta', { index: 0, delta: { type: 'text_delta', text } });
    }
  } catch (error) {
    failure = (error as Error).message;
  }
  if (failure === undefined && !started) failure = "invalid response body: the server's stream held no chunk";
  const result = failure === undefined ? fromOpenAI(chunks.completion(), request) : undefined;
  if (result === undefined || 'error' in result) return yield errorEvent(failure ?? `invalid response body: ${result!.error}`);
  const { message } = result;
  const first = message.content[0];
  const firstText = first?.type === 'text' ? (first as { text: string }).text : undefined;
  let index = 0;
  if (streamed !== '') {
    // The text block under way: what the translation adds to the text streamed (a refusal) ends it.
    if (firstText !== undefined && firstText.length > streamed.length && firstText.startsWith(streamed)) {
      yield sseEvent('content_block_delta', { index: 0, delta: { type: 'text_delta', text: firstText.slice(streamed.length) } });
    }
    yield sseEvent('content_block_stop', { index: index++ });
  }
  for (const block of message.content.slice(streamed !== '' && firstText !== undefined ? 1 : 0)) yield* blockEvents(block, index++);
  yield* messageEndEvents(message);
}
