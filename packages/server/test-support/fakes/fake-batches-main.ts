import { FakeAnthropicBatches, type FakeAnthropicBatchesOptions } from './fake-anthropic-batches.js';

/**
 * Runs a fake batch provider in a process of its own (for benchmarks, so it does not share an event
 * loop with what is measured): `node fake-batches-main.js '{"shape":"anthropic", …options}'`. The
 * options are the fake's, as JSON (no `script` or `answer`). It prints `{"url": …}` as one line on
 * stdout and serves until SIGTERM; its `/_fake/…` routes report submissions and take faults.
 */

type MainOptions = { shape?: 'anthropic' } & Omit<FakeAnthropicBatchesOptions, 'script' | 'answer' | 'now'>;

const options = JSON.parse(process.argv[2] ?? '{}') as MainOptions;
const fake = await FakeAnthropicBatches.start(options);
process.stdout.write(`${JSON.stringify({ url: fake.url })}\n`);
process.once('SIGTERM', () => {
  void fake.close().then(() => process.exit(0));
});
