import { APIConnectionError, APIUserAbortError, BatchdError, JSONLDecodeError } from '../core/error.js';
import { LineDecoder } from './line-decoder.js';

/** Checks that a decoded line has the expected shape; returns a reason when it does not. */
export type LineCheck = (value: Record<string, unknown>) => string | null;

/**
 * An async iterable of the JSON objects in a JSONL byte stream, decoded as the bytes arrive.
 * Blank lines are ignored; any other line that is not a JSON object (or fails `check`) throws a
 * `JSONLDecodeError` naming its line number. It can be iterated once; leaving the loop early
 * cancels the underlying stream.
 */
export class JSONLStream<T> implements AsyncIterable<T> {
  #body: ReadableStream<Uint8Array> | null;
  readonly #check: LineCheck | undefined;
  readonly #signal: AbortSignal | undefined;

  /** `signal` is the caller's abort signal, used to tell an abort from a dropped connection. */
  constructor(body: ReadableStream<Uint8Array>, options: { check?: LineCheck; signal?: AbortSignal } = {}) {
    this.#body = body;
    this.#check = options.check;
    this.#signal = options.signal;
  }

  [Symbol.asyncIterator](): AsyncGenerator<T> {
    const body = this.#body;
    if (!body) throw new BatchdError('This JSONL stream has already been consumed.');
    this.#body = null;
    return this.#decode(body);
  }

  async *#decode(body: ReadableStream<Uint8Array>): AsyncGenerator<T> {
    const reader = body.getReader();
    const lines = new LineDecoder();
    let done = false;
    try {
      while (!done) {
        const chunk = await this.#read(reader);
        done = chunk === null;
        const decoded = chunk === null ? lines.flush() : lines.decode(chunk);
        const first = lines.lineNumber - decoded.length + 1;
        for (const [index, line] of decoded.entries()) {
          const item = this.#parse(line, first + index);
          if (item !== null) yield item;
        }
      }
    } finally {
      if (!done) await reader.cancel().catch(() => undefined);
      reader.releaseLock();
    }
  }

  async #read(reader: ReadableStreamDefaultReader<Uint8Array>): Promise<Uint8Array | null> {
    try {
      const { done, value } = await reader.read();
      return done ? null : value;
    } catch (cause) {
      if (this.#signal?.aborted) throw new APIUserAbortError();
      throw new APIConnectionError({ message: 'The results stream was interrupted.', cause });
    }
  }

  #parse(line: string, lineNumber: number): T | null {
    if (line.trim() === '') return null;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (cause) {
      throw new JSONLDecodeError(lineNumber, cause instanceof Error ? cause.message : String(cause), { cause });
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw new JSONLDecodeError(lineNumber, 'expected a JSON object');
    }
    const problem = this.#check?.(value as Record<string, unknown>);
    if (problem) throw new JSONLDecodeError(lineNumber, problem);
    return value as T;
  }
}
