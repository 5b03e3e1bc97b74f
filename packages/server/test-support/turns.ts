/** What `work` resolved to, and how many turns of the event loop other work had while it ran. */
export async function turnsDuring<T>(work: () => Promise<T>): Promise<{ value: T; turns: number }> {
  let turns = 0;
  let working = true;
  const counting = (async () => {
    while (working) {
      await new Promise((resolve) => setImmediate(resolve));
      if (working) turns++;
    }
  })();
  try {
    return { value: await work(), turns };
  } finally {
    working = false;
    await counting;
  }
}

/** Resolves once `done` holds, asked every 5 ms; throws naming `what` after 10 s. */
export async function waitFor(what: string, done: () => boolean | Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
