import { errors, type Dispatcher } from 'undici';
import type { HeaderMap } from './rate-limits.js';

/** A provider's whole answer as read by {@link WholeAnswer}. */
export interface Answer {
  status: number;
  headers: HeaderMap;
  text: string;
}

/**
 * The handler of one call made with undici's `dispatch` whose answer is read whole: its bytes
 * gathered as they arrive, then decoded once (a leading byte-order mark skipped, as undici's own
 * `text()` does). No body stream and no abort signal per call: `abort` ends the call, before it
 * reaches a connection or while it runs, and `done` settles with the answer or the error.
 */
export class WholeAnswer implements Dispatcher.DispatchHandler {
  readonly done: Promise<Answer>;
  #resolve!: (answer: Answer) => void;
  #reject!: (error: Error) => void;
  #controller: Dispatcher.DispatchController | undefined;
  #abortedBefore = false;
  #status = 0;
  #headers: HeaderMap = {};
  #chunks: Buffer[] = [];
  #length = 0;

  constructor() {
    this.done = new Promise<Answer>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
  }

  /** Ends the call; it fails with undici's abort error. */
  abort(): void {
    if (this.#controller) this.#controller.abort(abortError());
    else this.#abortedBefore = true;
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.#controller = controller;
    if (this.#abortedBefore) controller.abort(abortError());
  }

  onResponseStart(_controller: Dispatcher.DispatchController, status: number, headers: HeaderMap): void {
    [this.#status, this.#headers, this.#chunks, this.#length] = [status, headers, [], 0];
  }

  onResponseData(_controller: Dispatcher.DispatchController, chunk: Buffer): void {
    this.#chunks.push(chunk);
    this.#length += chunk.length;
  }

  onResponseEnd(): void {
    const bytes = this.#chunks.length === 1 ? this.#chunks[0]! : Buffer.concat(this.#chunks, this.#length);
    this.#chunks = [];
    const start = bytes.length > 2 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
    this.#resolve({ status: this.#status, headers: this.#headers, text: bytes.toString('utf8', start) });
  }

  onResponseError(_controller: Dispatcher.DispatchController, error: Error): void {
    this.#chunks = [];
    this.#reject(error);
  }
}

/** What an aborted call fails with: undici's own error for a request aborted. */
const abortError = (): Error => new errors.RequestAbortedError();
