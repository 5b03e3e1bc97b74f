/** Signature, flags and header-extension length: the fixed start of COPY's binary format. */
const HEADER_BYTES = 19;

/** Reads COPY's binary format across the chunks it arrived in, without joining them first. */
class ChunkReader {
  private index = 0;
  private at = 0;
  private readonly scratch = Buffer.allocUnsafe(8);

  constructor(private readonly chunks: Buffer[]) {}

  /** Copies the next `length` bytes into `target` at `offset`. */
  copy(length: number, target: Buffer, offset: number): void {
    while (length > 0) {
      const chunk = this.chunks[this.index];
      if (chunk === undefined) throw new Error('COPY data ended inside a row');
      const taken = Math.min(length, chunk.length - this.at);
      chunk.copy(target, offset, this.at, this.at + taken);
      offset += taken;
      length -= taken;
      this.at += taken;
      if (this.at === chunk.length) [this.index, this.at] = [this.index + 1, 0];
    }
  }

  skip(length: number): void {
    while (length > 0) {
      const taken = Math.min(length, this.scratch.length);
      this.copy(taken, this.scratch, 0);
      length -= taken;
    }
  }

  int16(): number {
    this.copy(2, this.scratch, 0);
    return this.scratch.readInt16BE(0);
  }

  int32(): number {
    this.copy(4, this.scratch, 0);
    return this.scratch.readInt32BE(0);
  }

  int64(): number {
    this.copy(8, this.scratch, 0);
    return Number(this.scratch.readBigInt64BE(0));
  }
}

/**
 * The rows of `COPY (SELECT <bigint position>, <text line>) TO STDOUT (FORMAT binary)`, as it
 * arrived in `chunks`: the lines' bytes joined into one buffer (the only copy made), the last
 * position and the number of rows.
 */
export function linesOfCopy(chunks: Buffer[]): { lines: Buffer; lastPosition: number; count: number } {
  const reader = new ChunkReader(chunks);
  const lines = Buffer.allocUnsafe(chunks.reduce((total, chunk) => total + chunk.length, 0));
  reader.skip(HEADER_BYTES - 4);
  reader.skip(reader.int32());
  let written = 0;
  let lastPosition = 0;
  let count = 0;
  // Each row: its field count, then each field's length and bytes; a count of -1 ends the data.
  while (reader.int16() !== -1) {
    reader.skip(4);
    lastPosition = reader.int64();
    const length = reader.int32();
    if (length < 0) throw new Error(`request at ${lastPosition} has neither a result nor a result type`);
    reader.copy(length, lines, written);
    written += length;
    count += 1;
  }
  return { lines: lines.subarray(0, written), lastPosition, count };
}
