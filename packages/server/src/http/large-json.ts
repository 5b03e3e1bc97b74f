import { ParamsBudget } from '../engine/params-budget.js';

/** A JSON body, a create's request `params` or an OpenAI input line past this many bytes is large. */
export const LARGE_JSON_BYTES = 1024 * 1024;

/** Bytes of large JSON the API holds at once. */
const LARGE_JSON_HELD_BYTES = 64 * 1024 * 1024;

/**
 * Bytes of large JSON the API holds at once: the body of a `POST /v1/messages` (or a count), a
 * create's large `params`, an OpenAI batch's large input line; each held from when it is known to
 * be large until it is answered or stored. Reading, parsing and writing it back holds four or five
 * copies of it at its peak: without this bound, twenty concurrent 30 MB requests held 2 to 2.5 GB.
 * One that would pass it waits, first come first served, before more of it is read (its client
 * held back by TCP); one alone always goes. Small JSON never waits here.
 */
export const largeJson = new ParamsBudget(LARGE_JSON_HELD_BYTES);

/**
 * Each client address's own share, half of {@link largeJson}: an address's large JSON waits for
 * room in its share before it waits for room in the process's, so clients at one address, however
 * slowly they send, always leave room for others'. Kept while the address holds or waits for some.
 */
const byAddress = new Map<string, ParamsBudget>();

/** Takes `bytes` of large JSON for a client at `address`, waiting for room; resolves with the function that gives them back. */
export async function takeLargeJson(address: string, bytes: number): Promise<() => void> {
  let own = byAddress.get(address);
  if (!own) byAddress.set(address, (own = new ParamsBudget(LARGE_JSON_HELD_BYTES / 2)));
  const giveOwn = await own.take(bytes);
  const giveShared = await largeJson.take(bytes);
  return () => {
    giveShared();
    giveOwn();
    if (own.taken === 0 && own.queued === 0 && byAddress.get(address) === own) byAddress.delete(address);
  };
}

/** Large JSON waiting for room, in its address's share or in the process's, and the client addresses holding or waiting for some. */
export function largeJsonWaiting(): { waiting: number; addresses: number } {
  let waiting = largeJson.queued;
  for (const own of byAddress.values()) waiting += own.queued;
  return { waiting, addresses: byAddress.size };
}

/** One reader's share of the large JSON of a client `address`: a large value at a time, from {@link take} until {@link giveBack}. */
export class LargeHold {
  #giveBack: (() => void) | undefined;

  constructor(private readonly address: string) {}

  get held(): boolean {
    return this.#giveBack !== undefined;
  }

  /** Takes `bytes` of the large-JSON bytes, waiting for room; nothing more while a share is held. */
  async take(bytes: number): Promise<void> {
    this.#giveBack ??= await takeLargeJson(this.address, bytes);
  }

  /** Gives the share back, when one is held. */
  giveBack(): void {
    this.#giveBack?.();
    this.#giveBack = undefined;
  }
}
