/**
 * The Message Batches flow of the API reference, with the batchd client: create a batch of two
 * requests, check its status, poll until processing has ended, then print each result's text or
 * error. Against a running batchd:
 *
 *   BATCHD_BASE_URL=http://127.0.0.1:8787 BATCHD_API_KEY=any-key \
 *     npx tsc -p examples && node examples/dist/batches-reference.js
 */
import { BatchdClient } from '@batchd/sdk';
import { pathToFileURL } from 'node:url';

export interface ReferenceOptions {
  /** Milliseconds between status checks. */
  pollInterval?: number;
  /** Where lines are printed. */
  log?: (line: string) => void;
}

export async function main(client: BatchdClient, options: ReferenceOptions = {}): Promise<void> {
  const { pollInterval = 1000, log = console.log } = options;

  // Create a batch of two requests.
  const messageBatch = await client.messages.batches.create({
    requests: [
      {
        custom_id: 'my-first-request',
        params: { model: 'claude-sonnet-4-6', max_tokens: 1024, messages: [{ role: 'user', content: 'Hello, world' }] },
      },
      {
        custom_id: 'my-second-request',
        params: { model: 'claude-sonnet-4-6', max_tokens: 1024, messages: [{ role: 'user', content: 'Hi again, friend' }] },
      },
    ],
  });
  log(`Created batch ${messageBatch.id}`);

  // Check its status.
  let batch = await client.messages.batches.retrieve(messageBatch.id);
  log(`Batch ${batch.id} processing status is ${batch.processing_status}`);

  // Poll until processing has ended.
  while (batch.processing_status !== 'ended') {
    log(`Batch ${batch.id} is still processing...`);
    await new Promise((resolve) => setTimeout(resolve, pollInterval));
    batch = await client.messages.batches.retrieve(messageBatch.id);
  }
  log(`Batch ${batch.id} has ended: ${JSON.stringify(batch.request_counts)}`);

  // Iterate the results, printing each message's text or the error.
  for await (const result of await client.messages.batches.results(messageBatch.id)) {
    switch (result.result.type) {
      case 'succeeded': {
        const text = result.result.message.content.map((block) => (block.type === 'text' ? block.text : '')).join('');
        log(`Success! ${result.custom_id}: ${text}`);
        break;
      }
      case 'errored':
        if (result.result.error.error.type === 'invalid_request_error') {
          log(`Validation error ${result.custom_id}: ${result.result.error.error.message}`);
        } else {
          log(`Server error ${result.custom_id}: ${result.result.error.error.message}`);
        }
        break;
      case 'canceled':
        log(`Canceled ${result.custom_id}`);
        break;
      case 'expired':
        log(`Expired ${result.custom_id}`);
        break;
    }
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await main(new BatchdClient());
}
