import { describe, expect, it } from 'vitest';
import { APIConnectionError, BatchdError, JSONLDecodeError } from '../core/error.js';
import { JSONLStream } from './jsonl.js';

const encoder = new TextEncoder();

function streamOf(chunks: Array<string | Uint8Array>, onCancel?: () => void): ReadableStream<Uint8Array> {
  let index = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      const chunk = chunks[index++];
      if (chunk === undefined) controller.close();
      else controller.enqueue(typeof chunk === 'string' ? encoder.encode(chunk) : chunk);
    },
    cancel() {
      onCancel?.();
    },
  });
}

async function collect<T>(stream: AsyncIterable<T>): Promise<T[]> {
  const items: T[] = [];
  for await (const item of stream) items.push(item);
  return items;
}

async function failure(stream: AsyncIterable<unknown>): Promise<unknown> {
  try {
    await collect(stream);
  } catch (error) {
    return error;
  }
  throw new Error('expected the stream to fail');
}

describe('JSONLStream', () => {
  it('yields one object per line across awkward chunks and a missing final newline', async () => {
    const text = '{"n":1,"s":"ü"}\r\n{"n":2}\r{"n":3}';
    const raw = encoder.encode(text);
    const chunks = [raw.subarray(0, 13), raw.subarray(13, 16), raw.subarray(16, 17), raw.subarray(17)];
    expect(await collect(new JSONLStream(streamOf(chunks)))).toEqual([{ n: 1, s: 'ü' }, { n: 2 }, { n: 3 }]);
  });

  it('ignores blank and whitespace-only lines but counts them in line numbers', async () => {
    const error = await failure(new JSONLStream(streamOf(['{"a":1}\n\n  \n{"a":2}\nnot json\n'])));
    expect(error).toBeInstanceOf(JSONLDecodeError);
    expect((error as JSONLDecodeError).lineNumber).toBe(5);
    expect((error as JSONLDecodeError).message).toMatch(/^Malformed JSONL at line 5: /);
    expect(await collect(new JSONLStream(streamOf(['\n{"a":1}\n\n'])))).toEqual([{ a: 1 }]);
  });

  it('numbers lines correctly when the bad line arrives in a later chunk', async () => {
    const error = await failure(new JSONLStream(streamOf(['{"a":1}\n{"a"', ':2}\n{"a":3}\n{tr', 'uncated'])));
    expect((error as JSONLDecodeError).lineNumber).toBe(4);
  });

  it('rejects lines that are JSON but not objects, and lines failing the check', async () => {
    const notObject = await failure(new JSONLStream(streamOf(['{"a":1}\n[1,2]\n'])));
    expect((notObject as JSONLDecodeError).message).toBe('Malformed JSONL at line 2: expected a JSON object');
    const check = (value: Record<string, unknown>): string | null => (typeof value['id'] === 'string' ? null : 'no id');
    const unchecked = await failure(new JSONLStream(streamOf(['{"id":"x"}\n{"id":7}\n']), { check }));
    expect((unchecked as JSONLDecodeError).message).toBe('Malformed JSONL at line 2: no id');
  });

  it('cancels the body when the loop ends early', async () => {
    let canceled = false;
    const stream = new JSONLStream<{ n: number }>(streamOf(['{"n":1}\n{"n":2}\n', '{"n":3}\n'], () => (canceled = true)));
    for await (const item of stream) {
      expect(item).toEqual({ n: 1 });
      break;
    }
    expect(canceled).toBe(true);
  });

  it('can be iterated only once', async () => {
    const stream = new JSONLStream(streamOf(['{"n":1}\n']));
    await collect(stream);
    expect(() => stream[Symbol.asyncIterator]()).toThrow(BatchdError);
  });

  it('reports a body that breaks off as a connection error', async () => {
    let sent = false;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent) controller.error(new TypeError('terminated'));
        else controller.enqueue(encoder.encode('{"n":1}\n{"n"'));
        sent = true;
      },
    });
    const items: unknown[] = [];
    const error = await (async () => {
      try {
        for await (const item of new JSONLStream(body)) items.push(item);
      } catch (caught) {
        return caught;
      }
      return null;
    })();
    expect(items).toEqual([{ n: 1 }]);
    expect(error).toBeInstanceOf(APIConnectionError);
    expect((error as APIConnectionError).cause).toBeInstanceOf(TypeError);
  });
});
