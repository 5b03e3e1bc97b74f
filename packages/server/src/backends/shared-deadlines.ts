/** A call's hold on a shared deadline, and whether the deadline passed. */
export interface DeadlineTicket {
  /** Whether the deadline passed (rather than the caller aborting). */
  readonly timedOut: boolean;
  /** Lets go of the deadline once the call is over; a second call does nothing. */
  release(): void;
}

/** Longest stretch of call starts that share one deadline. */
const MAX_SLOT_MS = 1_000;

/**
 * Deadlines for calls that each may take up to `timeoutMs`, shared by the calls that start close
 * together: those started with the same caller signal within one slot (a hundredth of
 * `timeoutMs`, at most a second) share one timer and one listener on the caller's signal, which
 * fire a slot after `timeoutMs` from the slot's start. Each call thus gets at least `timeoutMs`
 * and at most 1 % more, and many calls a second cost a timer a slot instead of one each. A call
 * hands in how it is aborted; the slot calls that once, at its deadline or the caller's abort.
 */
export class SharedDeadlines {
  readonly #timeoutMs: number;
  readonly #slotMs: number;
  readonly #now: () => number;
  /** The slot calls join now, by caller signal. */
  readonly #open = new Map<AbortSignal, Slot>();

  constructor(timeoutMs: number, now: () => number = performance.now.bind(performance)) {
    this.#timeoutMs = timeoutMs;
    this.#slotMs = Math.min(MAX_SLOT_MS, Math.floor(timeoutMs / 100));
    this.#now = now;
  }

  /** A deadline for a call starting now, which `abort` (a function of this call's own) ends; at once when `caller` has aborted. */
  enter(caller: AbortSignal, abort: () => void): DeadlineTicket {
    if (caller.aborted) {
      abort();
      return { timedOut: false, release: () => undefined };
    }
    let slot = this.#open.get(caller);
    if (slot === undefined || slot.ended || this.#now() - slot.openedAt > this.#slotMs) {
      slot = new Slot(caller, this.#now(), this.#timeoutMs + this.#slotMs, () => {
        if (this.#open.get(caller) === slot) this.#open.delete(caller);
      });
      this.#open.set(caller, slot);
    }
    return slot.join(abort);
  }
}

/** One shared deadline: its timer, and the aborts of the calls that still hold it. */
class Slot {
  readonly #timer: NodeJS.Timeout;
  readonly #caller: AbortSignal;
  readonly #onAbort = (): void => this.#abortAll();
  readonly #close: () => void;
  readonly #holders = new Set<() => void>();
  timedOut = false;
  ended = false;

  constructor(
    caller: AbortSignal,
    readonly openedAt: number,
    deadlineMs: number,
    close: () => void,
  ) {
    this.#caller = caller;
    this.#close = close;
    this.#timer = setTimeout(() => {
      this.timedOut = true;
      this.#abortAll();
    }, deadlineMs);
    caller.addEventListener('abort', this.#onAbort);
  }

  join(abort: () => void): DeadlineTicket {
    const slot = this;
    this.#holders.add(abort);
    return {
      get timedOut() {
        return slot.timedOut;
      },
      release: () => {
        if (this.#holders.delete(abort) && this.#holders.size === 0) this.#end();
      },
    };
  }

  /** Aborts every call still held, once, and ends the slot. */
  #abortAll(): void {
    const holders = [...this.#holders];
    this.#holders.clear();
    this.#end();
    for (const abort of holders) abort();
  }

  /** Stops the timer and lets go of the caller's signal; calls join a new slot from here. */
  #end(): void {
    if (this.ended) return;
    this.ended = true;
    clearTimeout(this.#timer);
    this.#caller.removeEventListener('abort', this.#onAbort);
    this.#close();
  }
}
