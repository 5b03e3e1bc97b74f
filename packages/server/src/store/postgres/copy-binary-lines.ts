/** Signature, flags and header-extension length: the fixed start of COPY's binary format. */
const HEADER_BYTES = 19;
/** A row's field count (2), its position's length (4) and value (8), its line's length (4). */
const ROW_HEAD_BYTES = 18;

/** Lines of consecutive rows joined into one buffer, the last row's position and the number of rows. */
export interface CopyLinesPage {
  lines: Buffer;
  lastPosition: number;
  count: number;
}

/**
 * Reads the rows of `COPY (SELECT <bigint position>, <text line>) TO STDOUT (FORMAT binary)` as
 * its chunks arrive, without joining the chunks: each line is copied once, into the page it
 * belongs to. A page holds `pageLines` rows, or fewer at the end of the data.
 */
export class CopyLines {
  private readonly chunks: Buffer[] = [];
  /** Where the unread bytes start in `chunks[0]`. */
  private at = 0;
  private available = 0;
  private headerRead = false;
  /** Bytes of the header extension still to skip. */
  private toSkip = 0;
  /** The length of the next row's line once its head was read, else -1. */
  private lineLength = -1;
  private ended = false;
  private readonly scratch = Buffer.allocUnsafe(HEADER_BYTES);
  private page: Buffer = Buffer.alloc(0);
  private written = 0;
  private count = 0;
  private lastPosition = 0;

  /** `pageBytes`: the room a page is given at first (it grows if its lines need more). */
  constructor(
    private readonly pageLines: number,
    private pageBytes: number,
  ) {}

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.available += chunk.length;
  }

  /** The next full page, or undefined until more data has arrived. */
  takePage(): CopyLinesPage | undefined {
    while (this.count < this.pageLines && this.readRow());
    return this.count === this.pageLines ? this.finishPage() : undefined;
  }

  /** The rows read after the last full page, once the data has ended; undefined when there are none. */
  end(): CopyLinesPage | undefined {
    while (this.readRow());
    if (!this.ended) throw new Error('COPY data ended inside a row');
    return this.count > 0 ? this.finishPage() : undefined;
  }

  /** Moves one row's line into the page; false when its bytes have not all arrived or the data has ended. */
  private readRow(): boolean {
    if (this.ended) return false;
    if (!this.headerRead) {
      if (this.available < HEADER_BYTES) return false;
      this.copy(HEADER_BYTES, this.scratch, 0);
      this.toSkip = this.scratch.readInt32BE(HEADER_BYTES - 4);
      this.headerRead = true;
    }
    if (this.toSkip > 0) {
      const skipped = Math.min(this.toSkip, this.available, this.scratch.length);
      this.copy(skipped, this.scratch, 0);
      this.toSkip -= skipped;
      return this.toSkip === 0 || this.available > 0;
    }
    if (this.lineLength < 0) {
      // Each row: its field count, then each field's length and bytes; a count of -1 ends the data.
      if (this.available >= 2 && this.peekInt16() === -1) {
        this.ended = true;
        return false;
      }
      if (this.available < ROW_HEAD_BYTES) return false;
      this.copy(ROW_HEAD_BYTES, this.scratch, 0);
      this.lastPosition = Number(this.scratch.readBigInt64BE(6));
      this.lineLength = this.scratch.readInt32BE(14);
      if (this.lineLength < 0) throw new Error(`request at ${this.lastPosition} has neither a result nor a result type`);
    }
    if (this.available < this.lineLength) return false;
    if (this.written + this.lineLength > this.page.length) this.growPage();
    this.copy(this.lineLength, this.page, this.written);
    this.written += this.lineLength;
    this.count += 1;
    this.lineLength = -1;
    return true;
  }

  /** Room for the next line: the page's first room, or twice what it had. */
  private growPage(): void {
    const grown = Buffer.allocUnsafe(Math.max(this.written + this.lineLength, this.written === 0 ? this.pageBytes : 2 * this.page.length));
    this.page.copy(grown, 0, 0, this.written);
    this.page = grown;
  }

  private finishPage(): CopyLinesPage {
    const page = { lines: this.page.subarray(0, this.written), lastPosition: this.lastPosition, count: this.count };
    // The next page gets the room this one's lines took, a little more for longer lines.
    this.pageBytes = Math.ceil(this.written * 1.125);
    this.page = Buffer.alloc(0);
    this.written = 0;
    this.count = 0;
    return page;
  }

  private peekInt16(): number {
    const first = this.chunks[0]!;
    if (first.length - this.at >= 2) return first.readInt16BE(this.at);
    return (first[this.at]! << 24 >> 16) | this.chunks[1]![0]!;
  }

  /** Copies the next `length` bytes into `target` at `offset`. */
  private copy(length: number, target: Buffer, offset: number): void {
    this.available -= length;
    while (length > 0) {
      const chunk = this.chunks[0]!;
      const taken = Math.min(length, chunk.length - this.at);
      chunk.copy(target, offset, this.at, this.at + taken);
      offset += taken;
      length -= taken;
      this.at += taken;
      if (this.at === chunk.length) {
        this.chunks.shift();
        this.at = 0;
      }
    }
  }
}

/** The rows of one whole COPY as they arrived in `chunks`: one page of all of them. */
export function linesOfCopy(chunks: Buffer[]): CopyLinesPage {
  const reader = new CopyLines(Number.POSITIVE_INFINITY, chunks.reduce((total, chunk) => total + chunk.length, 0));
  for (const chunk of chunks) reader.push(chunk);
  return reader.end() ?? { lines: Buffer.alloc(0), lastPosition: 0, count: 0 };
}
