/**
 * Large work (parsing, joining or escaping megabytes of text) waits here for a turn of the event
 * loop of its own: the whole process lets one step through per turn, first come first served, and
 * the event loop takes in I/O (other requests, `/health`) between two steps. Each request that
 * awaited `setImmediate` between its own steps would bound only itself: twenty 30 MB requests
 * each took their step in the same turn, and held the loop for up to 0.9 s.
 */
const waiting: Array<() => void> = [];
let scheduled = false;

function letOneThrough(): void {
  waiting.shift()?.();
  // Scheduled from within this turn's immediates, the next runs in the next turn, after its I/O.
  if (waiting.length > 0) setImmediate(letOneThrough);
  else scheduled = false;
}

/** Resolves in a later turn of the event loop in which no other caller's step runs. */
export function ownTurn(): Promise<void> {
  return new Promise((resolve) => {
    waiting.push(resolve);
    if (scheduled) return;
    scheduled = true;
    setImmediate(letOneThrough);
  });
}
