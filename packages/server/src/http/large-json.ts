import { ParamsBudget } from '../engine/params-budget.js';

/** A JSON body, a create's request `params` or an OpenAI input line past this many bytes is large. */
export const LARGE_JSON_BYTES = 1024 * 1024;

/**
 * Bytes of large JSON the API holds at once: the body of a `POST /v1/messages` (or a count), a
 * create's large `params`, an OpenAI batch's large input line; each held from when it is known to
 * be large until it is answered or stored. Reading, parsing and writing it back holds four or five
 * copies of it at its peak: without this bound, twenty concurrent 30 MB requests held 2 to 2.5 GB.
 * One that would pass it waits, first come first served, before more of it is read (its client
 * held back by TCP); one alone always goes. Small JSON never waits here.
 */
export const largeJson = new ParamsBudget(64 * 1024 * 1024);

/** One reader's share of {@link largeJson}: a large value at a time, from {@link take} until {@link giveBack}. */
export class LargeHold {
  #giveBack: (() => void) | undefined;

  get held(): boolean {
    return this.#giveBack !== undefined;
  }

  /** Takes `bytes` of the large-JSON bytes, waiting for room; nothing more while a share is held. */
  async take(bytes: number): Promise<void> {
    this.#giveBack ??= await largeJson.take(bytes);
  }

  /** Gives the share back, when one is held. */
  giveBack(): void {
    this.#giveBack?.();
    this.#giveBack = undefined;
  }
}
