import { FakeAnthropicBatches, type FakeAnthropicBatchesOptions } from './fake-anthropic-batches.js';
import { FakeOpenAIBatches, type FakeOpenAIBatchesOptions } from './fake-openai-batches.js';

/**
 * Runs a fake batch provider in a process of its own (for benchmarks, so it does not share an event
 * loop with what is measured): `node fake-batches-main.js '{"shape":"anthropic"|"openai", …options}'`.
 * The options are the fake's, as JSON (no `script`, `answer` or `now`). It prints `{"url": …}` as
 * one line on stdout and serves until SIGTERM; its `/_fake/…` routes report submissions and take faults.
 */

type JsonOptions<T> = Omit<T, 'script' | 'answer' | 'now'>;
type MainOptions = ({ shape?: 'anthropic' } & JsonOptions<FakeAnthropicBatchesOptions>) | ({ shape: 'openai' } & JsonOptions<FakeOpenAIBatchesOptions>);

const options = JSON.parse(process.argv[2] ?? '{}') as MainOptions;
const fake = options.shape === 'openai' ? await FakeOpenAIBatches.start(options) : await FakeAnthropicBatches.start(options);
process.stdout.write(`${JSON.stringify({ url: fake.url })}\n`);
process.once('SIGTERM', () => {
  void fake.close().then(() => process.exit(0));
});
