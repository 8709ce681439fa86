/**
 * Buffers for reading batches out of the log, used again once the answer that carried them has
 * left the process.
 *
 * Why: a consumer fetching at full speed asks for 1 MiB (max.partition.fetch.bytes) hundreds of
 * times a second. A fresh Buffer of that size lives outside V8's heap, and V8 answers fast growth
 * of such external memory with full mark-compact collections: measured here, one every 15 or so
 * 1 MiB fetches, and the collector took 23 % of the broker's time while a consumer read
 * (bench/README.md, "Consume"). Kafka avoids the copy altogether with sendfile(2); Node cannot
 * send a file range to a socket, so the broker reads into memory and instead keeps that memory.
 *
 * How: buffers are kept by capacity class, the powers of two from 64 KiB up. `acquire(size)` lends
 * a view of `size` bytes over a free buffer of the smallest class that holds it (or a new one);
 * `release(view)` gives it back. Smaller reads are not pooled (Node's own 8 KiB pool and the young
 * generation handle them well). At most `maxPooledBytes` wait in the free lists; beyond that a
 * released buffer is left to the garbage collector.
 *
 * The rule callers keep: release a view only when nothing will read it again, for an HTTP answer
 * on the response's `finish` (every byte handed to the kernel). Forgetting to release is safe, the
 * buffer is collected as any other; releasing too early is not, the next read would overwrite
 * bytes still being sent. A view released twice, or one this pool did not lend, is ignored.
 */

const MIN_POOLED_BYTES = 64 * 1024;
const DEFAULT_MAX_POOLED_BYTES = 32 * 1024 * 1024;

export class ReadBuffers {
  readonly #maxPooledBytes: number;
  /** Free buffers by capacity (a power of two ≥ MIN_POOLED_BYTES). */
  readonly #free = new Map<number, Buffer[]>();
  /** The backing store of every buffer lent out and not yet released, with its whole buffer. */
  readonly #lent = new Map<ArrayBufferLike, Buffer>();
  #freeBytes = 0;

  constructor(maxPooledBytes = DEFAULT_MAX_POOLED_BYTES) {
    this.#maxPooledBytes = maxPooledBytes;
  }

  /** Bytes waiting in the free lists (for tests and metrics). */
  get freeBytes(): number {
    return this.#freeBytes;
  }

  /** A buffer of exactly `size` bytes, its content undefined. */
  acquire(size: number): Buffer {
    if (size < MIN_POOLED_BYTES) return Buffer.allocUnsafe(size);
    const capacity = capacityFor(size);
    let whole = this.#free.get(capacity)?.pop();
    if (whole === undefined) whole = Buffer.allocUnsafeSlow(capacity);
    else this.#freeBytes -= capacity;
    this.#lent.set(whole.buffer, whole);
    return whole.subarray(0, size);
  }

  /** Takes back a view acquire() lent (or any view of the same buffer); see the file header for when. */
  release(view: Buffer): void {
    const whole = this.#lent.get(view.buffer);
    if (whole === undefined) return;
    this.#lent.delete(view.buffer);
    if (this.#freeBytes + whole.length > this.#maxPooledBytes) return;
    let list = this.#free.get(whole.length);
    if (list === undefined) this.#free.set(whole.length, (list = []));
    list.push(whole);
    this.#freeBytes += whole.length;
  }
}

function capacityFor(size: number): number {
  return 2 ** Math.ceil(Math.log2(size));
}
