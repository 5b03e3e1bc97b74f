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
