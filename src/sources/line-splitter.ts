/**
 * Splits a byte stream into lines without ever holding more than `maxLineBytes` of one line:
 * an over-long line is dropped as it streams past and reported once.
 */
export class LineSplitter {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private discarding = false;

  constructor(
    private readonly maxLineBytes: number,
    private readonly onLine: (line: string) => void,
    private readonly onTooLong: (bytesSeen: number) => void,
  ) {}

  push(chunk: Buffer): void {
    let start = 0;
    for (let nl = chunk.indexOf(10, start); nl !== -1; nl = chunk.indexOf(10, start)) {
      if (this.pendingBytes === 0 && !this.discarding && nl - start <= this.maxLineBytes) {
        // A whole line inside this chunk: decoded straight from it, without a copy.
        this.onLine(chunk.toString('utf8', start, nl));
      } else {
        this.take(chunk.subarray(start, nl));
        this.endLine();
      }
      start = nl + 1;
    }
    if (start < chunk.length) this.take(chunk.subarray(start));
  }

  /** End of input: a last line without a newline is still a line (it may be truncated). */
  end(): void {
    if (this.pendingBytes > 0 || this.discarding) this.endLine();
  }

  private take(part: Buffer): void {
    if (this.discarding) {
      this.pendingBytes += part.length;
      return;
    }
    this.pendingBytes += part.length;
    if (this.pendingBytes > this.maxLineBytes) {
      this.discarding = true;
      this.pending = [];
      return;
    }
    if (part.length > 0) this.pending.push(Buffer.from(part));
  }

  private endLine(): void {
    if (this.discarding) this.onTooLong(this.pendingBytes);
    else this.onLine(Buffer.concat(this.pending).toString('utf8'));
    this.pending = [];
    this.pendingBytes = 0;
    this.discarding = false;
  }
}
