import { JSONLDecodeError } from '../core/error.js';

const LF = 0x0a;
const CR = 0x0d;

/**
 * Splits a byte stream into UTF-8 text lines, chunk by chunk. Lines end at `\n`, `\r\n` or a lone
 * `\r`; a terminator, or a multi-byte character, may be split across chunks anywhere. Only the
 * bytes of the current unfinished line are held, so memory stays bounded by the longest line.
 */
export class LineDecoder {
  /** Bytes of the line in progress, in arrival order. */
  #pending: Uint8Array[] = [];
  /** The previous chunk ended with `\r`: a `\n` opening the next chunk belongs to that terminator. */
  #afterCR = false;
  #lineNumber = 0;
  readonly #text = new TextDecoder('utf-8', { fatal: true });

  /** Number of lines returned so far. */
  get lineNumber(): number {
    return this.#lineNumber;
  }

  /** Feeds one chunk; returns the lines it completed, without their terminators. */
  decode(chunk: Uint8Array): string[] {
    const lines: string[] = [];
    let start = 0;
    if (this.#afterCR && chunk.length > 0) {
      this.#afterCR = false;
      if (chunk[0] === LF) start = 1;
    }
    for (let i = start; i < chunk.length; i++) {
      const byte = chunk[i];
      if (byte !== LF && byte !== CR) continue;
      lines.push(this.#finishLine(chunk.subarray(start, i)));
      if (byte === CR) {
        if (i + 1 === chunk.length) this.#afterCR = true;
        else if (chunk[i + 1] === LF) i++;
      }
      start = i + 1;
    }
    if (start < chunk.length) this.#pending.push(chunk.slice(start));
    return lines;
  }

  /** Ends the input; returns the last line when it had no terminator. */
  flush(): string[] {
    this.#afterCR = false;
    if (this.#pending.length === 0) return [];
    return [this.#finishLine(new Uint8Array(0))];
  }

  #finishLine(tail: Uint8Array): string {
    const bytes = this.#pending.length === 0 ? tail : concat([...this.#pending, tail]);
    this.#pending = [];
    this.#lineNumber++;
    try {
      return this.#text.decode(bytes);
    } catch (cause) {
      throw new JSONLDecodeError(this.#lineNumber, 'invalid UTF-8', { cause });
    }
  }
}

function concat(parts: Uint8Array[]): Uint8Array {
  let length = 0;
  for (const part of parts) length += part.length;
  const out = new Uint8Array(length);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}
