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
