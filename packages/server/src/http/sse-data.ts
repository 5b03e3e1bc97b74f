import { createParser } from 'eventsource-parser';

/** Why a stream cannot be read on, as the error a client gets says: the provider's error type, or `api_error`. */
export class StreamFailure extends Error {
  constructor(
    message: string,
    readonly errorType = 'api_error',
  ) {
    super(message);
  }
}

/**
 * The `data` of each server-sent event of a provider's streamed answer, as the bytes come (cut
 * anywhere, through characters too). Throws a {@link StreamFailure} once more than `maxBytes`
 * have come, or when the body breaks off. A caller that stops reading lets the body go.
 */
export async function* sseData(body: AsyncIterable<Buffer>, maxBytes: number): AsyncGenerator<string> {
  const pending: string[] = [];
  const parser = createParser({ onEvent: (event) => pending.push(event.data) });
  const decoder = new TextDecoder();
  let bytes = 0;
  try {
    for await (const raw of body) {
      bytes += raw.length;
      if (bytes > maxBytes) throw new StreamFailure(`the server's stream passed ${maxBytes} bytes`);
      parser.feed(decoder.decode(raw, { stream: true }));
      yield* pending.splice(0);
    }
  } catch (error) {
    throw error instanceof StreamFailure ? error : new StreamFailure(`the server's stream broke off: ${error instanceof Error ? error.message : String(error)}`);
  }
}
