/**
 * Partitioner: keyed records follow partitionForKey; records without a key stay on one partition
 * for about batch.size bytes and then move to a different one (sticky).
 */

import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { partitionForKey } from '../../../common/murmur2.ts';
import { Partitioner } from '../../../client/producer/partitioner.ts';

describe('Partitioner', () => {
  test('partitionFor() of a keyed record is partitionForKey() of its bytes, for any key and partition count', () => {
    const partitioner = new Partitioner(1000);
    fc.assert(fc.property(fc.uint8Array({ maxLength: 40 }), fc.integer({ min: 1, max: 100 }), (key, count) => {
      expect(partitioner.partitionFor('t', Buffer.from(key), count, 10)).toBe(partitionForKey(key, count));
    }));
  });

  test('partitionFor() of a string key hashes its UTF-8 bytes, short or long, ASCII or not', () => {
    const partitioner = new Partitioner(1000);
    fc.assert(fc.property(fc.string({ unit: 'grapheme', maxLength: 120 }), fc.integer({ min: 1, max: 100 }), (key, count) => {
      expect(partitioner.partitionFor('t', key, count, 10)).toBe(partitionForKey(Buffer.from(key, 'utf8'), count));
    }));
  });

  test('partitionFor() without a key sticks to one partition for batch.size bytes, then switches to another', () => {
    const randoms = [0.5, 0.0, 0.99];
    const partitioner = new Partitioner(100, () => randoms.shift() ?? 0.5);
    const chosen = Array.from({ length: 12 }, () => partitioner.partitionFor('t', null, 4, 30));
    // 100 bytes per stretch: records of 30 bytes → 4 per partition (the 4th crosses the line).
    expect(chosen).toEqual([2, 2, 2, 2, 3, 3, 3, 3, 2, 2, 2, 2]);
  });

  test('partitionFor() without a key keeps separate sticky choices per topic and always picks 0 of 1', () => {
    const partitioner = new Partitioner(100, () => 0.7);
    expect(partitioner.partitionFor('a', null, 10, 1)).toBe(7);
    expect(partitioner.partitionFor('b', null, 1, 1)).toBe(0);
    expect(partitioner.partitionFor('a', null, 10, 1)).toBe(7);
  });
});
