import { setMaxListeners } from 'node:events';

/** A call's hold on a shared deadline: the signal to pass on, and whether the deadline passed. */
export interface DeadlineTicket {
  readonly signal: AbortSignal;
  /** Whether the deadline passed (rather than the caller aborting). */
  readonly timedOut: boolean;
  /** Lets go of the deadline once the call is over; a second call does nothing. */
  release(): void;
}

/** Longest stretch of call starts that share one deadline. */
const MAX_SLOT_MS = 1_000;
/**
 * Most calls sharing one deadline: each call's HTTP request listens to the shared signal, and an
 * `AbortSignal` looks through its listeners on every listener added.
 */
const MAX_SLOT_CALLS = 16;

/**
 * Deadlines for calls that each may take up to `timeoutMs`, shared by the calls that start close
 * together: those started with the same caller signal within one slot (a hundredth of
 * `timeoutMs`, at most a second; at most {@link MAX_SLOT_CALLS} calls) share one abort controller and one timer, which fires a slot
 * after `timeoutMs` from the slot's start. Each call thus gets at least `timeoutMs` and at most
 * 1 % more, and many calls a second cost a timer and a controller a slot instead of one each.
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

  /** A deadline for a call starting now, aborted as well when `caller` aborts. */
  enter(caller: AbortSignal): DeadlineTicket {
    let slot = this.#open.get(caller);
    if (slot === undefined || slot.full || this.#now() - slot.openedAt > this.#slotMs) {
      slot = new Slot(caller, this.#now(), this.#timeoutMs + this.#slotMs, () => {
        if (this.#open.get(caller) === slot) this.#open.delete(caller);
      });
      this.#open.set(caller, slot);
    }
    return slot.join();
  }
}

/** One shared deadline: its controller, its timer, and how many calls still hold it. */
class Slot {
  readonly #controller = new AbortController();
  readonly #timer: NodeJS.Timeout;
  readonly #caller: AbortSignal;
  readonly #onAbort = (): void => this.#controller.abort();
  readonly #close: () => void;
  #holders = 0;
  timedOut = false;

  constructor(
    caller: AbortSignal,
    readonly openedAt: number,
    deadlineMs: number,
    close: () => void,
  ) {
    // Every call of the slot listens to its signal: no leak, however many.
    setMaxListeners(0, this.#controller.signal);
    this.#caller = caller;
    this.#close = close;
    this.#timer = setTimeout(() => {
      this.timedOut = true;
      this.#controller.abort();
      this.#end();
    }, deadlineMs);
    caller.addEventListener('abort', this.#onAbort);
    if (caller.aborted) this.#controller.abort();
  }

  get full(): boolean {
    return this.#holders >= MAX_SLOT_CALLS;
  }

  join(): DeadlineTicket {
    this.#holders++;
    let released = false;
    const slot = this;
    return {
      signal: this.#controller.signal,
      get timedOut() {
        return slot.timedOut;
      },
      release: () => {
        if (released) return;
        released = true;
        if (--this.#holders === 0) this.#end();
      },
    };
  }

  /** Stops the timer and lets go of the caller's signal; calls join a new slot from here. */
  #end(): void {
    clearTimeout(this.#timer);
    this.#caller.removeEventListener('abort', this.#onAbort);
    this.#close();
  }
}
