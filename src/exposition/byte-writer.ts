/**
 * A growable byte buffer that exposition text is written into, chunk by chunk, and that is used
 * again for a later render once nothing reads it any more. Per scrape that leaves no megabyte of
 * Buffers to allocate (memory outside V8's heap, which made V8 run a full collection every few
 * scrapes: about 6 ms each at 1,000 peers) and no megabyte string to flatten and encode.
 */
export class ByteWriter {
  private buffer: Buffer;
  private used = 0;

  constructor(initialBytes = 64 * 1024) {
    this.buffer = Buffer.allocUnsafe(initialBytes);
  }

  /** Appends `text`: as Latin-1 when the caller knows it is all ASCII (a plain copy), else as UTF-8. */
  write(text: string, ascii: boolean): void {
    // UTF-8 needs at most 3 bytes per UTF-16 code unit.
    this.reserve(ascii ? text.length : text.length * 3);
    this.used += this.buffer.write(text, this.used, ascii ? 'latin1' : 'utf8');
  }

  /** The bytes written since the last reset: a view, valid until the next reset or write. */
  get bytes(): Buffer {
    return this.buffer.subarray(0, this.used);
  }

  get length(): number {
    return this.used;
  }

  get capacity(): number {
    return this.buffer.length;
  }

  reset(): void {
    this.used = 0;
  }

  private reserve(more: number): void {
    const needed = this.used + more;
    if (needed <= this.buffer.length) return;
    let size = this.buffer.length * 2;
    while (size < needed) size *= 2;
    const grown = Buffer.allocUnsafe(size);
    this.buffer.copy(grown, 0, 0, this.used);
    this.buffer = grown;
  }
}

/**
 * Writers waiting to be used again. A writer comes back only when its last reader is done, so a
 * slow client never sees its body overwritten; `maxIdle` bounds what is kept meanwhile.
 */
export class ByteWriterPool {
  private readonly idle: ByteWriter[] = [];

  constructor(private readonly maxIdle = 2) {}

  acquire(): ByteWriter {
    return this.idle.pop() ?? new ByteWriter();
  }

  release(writer: ByteWriter): void {
    writer.reset();
    if (this.idle.length < this.maxIdle) this.idle.push(writer);
  }

  /** Writers waiting (for tests). */
  get size(): number {
    return this.idle.length;
  }
}
