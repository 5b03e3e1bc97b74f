import { isAbort } from './error-banner.js';

export interface Poller {
  /** Runs the task now (abandoning a run in flight) and resumes the schedule after it. */
  refresh(): void;
  /** Stops for good and aborts a run in flight. */
  stop(): void;
}

/**
 * Runs `task` now and then again `intervalMs()` after each run finishes, so runs never overlap
 * and a slow server is not flooded. A failed run is reported to `onError` and polling goes on;
 * aborted runs are not reported.
 */
export function startPolling(
  task: (signal: AbortSignal) => Promise<void>,
  intervalMs: () => number,
  onError: (error: unknown) => void,
): Poller {
  let controller: AbortController | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;
  const run = async () => {
    clearTimeout(timer);
    controller?.abort();
    const current = new AbortController();
    controller = current;
    try {
      await task(current.signal);
    } catch (error) {
      if (current.signal.aborted || isAbort(error)) return;
      onError(error);
    }
    if (stopped || current.signal.aborted) return;
    timer = setTimeout(() => void run(), intervalMs());
  };
  void run();
  return {
    refresh: () => {
      if (!stopped) void run();
    },
    stop: () => {
      stopped = true;
      clearTimeout(timer);
      controller?.abort();
    },
  };
}
