import { describe, expect, it } from 'vitest';
import { JSONLDecodeError } from '../core/error.js';
import { LineDecoder } from './line-decoder.js';

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);

function decodeAll(chunks: Uint8Array[]): string[] {
  const decoder = new LineDecoder();
  const lines = chunks.flatMap((chunk) => decoder.decode(chunk));
  return [...lines, ...decoder.flush()];
}

/** Every way of cutting `input` into two or three chunks. */
function* splits(input: Uint8Array): Generator<Uint8Array[]> {
  for (let a = 0; a <= input.length; a++) {
    for (let b = a; b <= input.length; b += 3) {
      yield [input.subarray(0, a), input.subarray(a, b), input.subarray(b)];
    }
  }
}

describe('LineDecoder', () => {
  it('splits on \\n, \\r\\n and a lone \\r', () => {
    expect(decodeAll([bytes('a\nb\r\nc\rd\n')])).toEqual(['a', 'b', 'c', 'd']);
  });

  it('keeps empty lines so callers can see them', () => {
    expect(decodeAll([bytes('a\n\nb\r\n\r\nc\r\rd\n')])).toEqual(['a', '', 'b', '', 'c', '', 'd']);
  });

  it('returns a last line that has no terminator on flush', () => {
    const decoder = new LineDecoder();
    expect(decoder.decode(bytes('one\ntwo'))).toEqual(['one']);
    expect(decoder.flush()).toEqual(['two']);
    expect(decoder.flush()).toEqual([]);
  });

  it('returns nothing for empty input or input ending in a terminator', () => {
    expect(decodeAll([])).toEqual([]);
    expect(decodeAll([bytes('x\r\n')])).toEqual(['x']);
    expect(decodeAll([bytes('x\r')])).toEqual(['x']);
  });

  it('treats \\r at a chunk end and \\n at the next chunk start as one terminator', () => {
    expect(decodeAll([bytes('a\r'), bytes('\nb\r'), bytes(''), bytes('\nc')])).toEqual(['a', 'b', 'c']);
    expect(decodeAll([bytes('a\r'), bytes('b\n')])).toEqual(['a', 'b']);
  });

  it('gives the same lines however the bytes are cut, multi-byte characters included', () => {
    const text = '{"t":"é"}\r\n{"t":"日本"}\n\r{"t":"😀"}\r{"t":"ok"}';
    const expected = ['{"t":"é"}', '{"t":"日本"}', '', '{"t":"😀"}', '{"t":"ok"}'];
    const input = bytes(text);
    let cases = 0;
    for (const chunks of splits(input)) {
      expect(decodeAll(chunks)).toEqual(expected);
      cases++;
    }
    const oneByteChunks = Array.from(input, (byte) => Uint8Array.of(byte));
    expect(decodeAll(oneByteChunks)).toEqual(expected);
    expect(cases).toBeGreaterThan(100);
  });

  it('counts lines and names the line holding invalid UTF-8', () => {
    const decoder = new LineDecoder();
    decoder.decode(bytes('ok\nok\n'));
    expect(decoder.lineNumber).toBe(2);
    const error = (() => {
      try {
        decoder.decode(Uint8Array.of(0x7b, 0xff, 0x7d, 0x0a));
      } catch (caught) {
        return caught;
      }
      return null;
    })();
    expect(error).toBeInstanceOf(JSONLDecodeError);
    expect((error as JSONLDecodeError).lineNumber).toBe(3);
    expect((error as JSONLDecodeError).message).toBe('Malformed JSONL at line 3: invalid UTF-8');
  });
});
