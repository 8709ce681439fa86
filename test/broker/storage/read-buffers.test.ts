/**
 * ReadBuffers: the pool fetches read into. What it must never do is lend one buffer twice at
 * once; what it should do is lend the same memory again once it is given back.
 */

import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { ReadBuffers } from '../../../broker/storage/read-buffers.ts';

const KiB = 1024;

describe('ReadBuffers', () => {
  test('lends a view of exactly the size asked for, and the same memory again after release', () => {
    const buffers = new ReadBuffers();
    const first = buffers.acquire(1000 * KiB);
    expect(first.length).toBe(1000 * KiB);
    expect(first.buffer.byteLength).toBe(1024 * KiB);
    buffers.release(first.subarray(0, 10)); // any view of it gives it back
    expect(buffers.freeBytes).toBe(1024 * KiB);
    const second = buffers.acquire(700 * KiB);
    expect(second.buffer).toBe(first.buffer);
    expect(buffers.freeBytes).toBe(0);
  });

  test('does not pool small reads, ignores a second release and a buffer it did not lend', () => {
    const buffers = new ReadBuffers();
    buffers.release(buffers.acquire(4 * KiB));
    buffers.release(Buffer.alloc(128 * KiB));
    expect(buffers.freeBytes).toBe(0);
    const lent = buffers.acquire(100 * KiB);
    buffers.release(lent);
    buffers.release(lent);
    expect(buffers.freeBytes).toBe(128 * KiB);
    expect(buffers.acquire(100 * KiB).buffer).toBe(lent.buffer);
    expect(buffers.acquire(100 * KiB).buffer).not.toBe(lent.buffer);
  });

  test('keeps at most maxPooledBytes waiting', () => {
    const buffers = new ReadBuffers(256 * KiB);
    const lent = [buffers.acquire(128 * KiB), buffers.acquire(128 * KiB), buffers.acquire(128 * KiB)];
    for (const buffer of lent) buffers.release(buffer);
    expect(buffers.freeBytes).toBe(256 * KiB);
  });

  test('never lends memory that is lent and not yet released (model: the set of lent backing stores)', () => {
    const sizes = fc.integer({ min: 1, max: 600 * KiB });
    const command = fc.oneof(fc.record({ acquire: sizes }), fc.record({ release: fc.nat() }));
    fc.assert(
      fc.property(fc.array(command, { maxLength: 60 }), (commands) => {
        const buffers = new ReadBuffers(2 * 1024 * KiB);
        const lent: Buffer[] = [];
        for (const c of commands) {
          if ('acquire' in c) {
            const buffer = buffers.acquire(c.acquire);
            expect(buffer.length).toBe(c.acquire);
            // (Reads under 64 KiB come from Node's own shared pool, not from this one.)
            if (c.acquire >= 64 * KiB) expect(lent.some((other) => other.buffer === buffer.buffer)).toBe(false);
            lent.push(buffer);
          } else if (lent.length > 0) {
            buffers.release(lent.splice(c.release % lent.length, 1)[0]);
          }
        }
      }),
    );
  });
});
