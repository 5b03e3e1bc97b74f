import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;

/**
 * Runs a full garbage collection once every `everyBytes` of large text handled. Each request's
 * params leave a few copies behind (the parser's string, the stored JSON text, the backend's
 * body); V8 lets such large strings pile up to hundreds of MB before it collects on its own,
 * so the process would hold several requests' worth of them at once.
 */
export class LargeGarbage {
  private since = 0;

  constructor(private readonly everyBytes: number) {}

  /**
   * Counts `bytes` of text just let go of; when they pass the threshold, collects on the next
   * turn of the event loop, once the callers' frames no longer hold that text.
   */
  released(bytes: number): void {
    this.since += bytes;
    if (this.since < this.everyBytes) return;
    this.since = 0;
    setImmediate(collectGarbage);
  }
}

/** The process's one counter: params text received or sent, collected every 16 MiB. */
export const paramsGarbage = new LargeGarbage(16 * 1024 * 1024);
