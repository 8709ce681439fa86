/**
 * PausedPartitions: KafkaJS's pause and resume by topic or by partition, checked against a model
 * of every (topic, partition) pair under random sequences of calls.
 */

import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { PausedPartitions } from '../../../client/consumer/paused-partitions.ts';

const TOPICS = ['a', 'b'];
const PARTITIONS = [0, 1, 2, 3];

describe('PausedPartitions', () => {
  test('a topic paused whole covers its partitions until resumed whole or one by one', () => {
    const paused = new PausedPartitions();
    paused.pause('a', undefined);
    expect(PARTITIONS.map((p) => paused.isPaused('a', p))).toEqual([true, true, true, true]);
    expect(paused.isPaused('a', 99)).toBe(true); // partitions the topic gains later too
    paused.resume('a', [1]);
    expect(PARTITIONS.map((p) => paused.isPaused('a', p))).toEqual([true, false, true, true]);
    paused.resume('a', undefined);
    expect(PARTITIONS.some((p) => paused.isPaused('a', p))).toBe(false);
  });

  test('agrees with a per-partition model under any sequence of pause and resume', () => {
    const call = fc.record({
      kind: fc.constantFrom('pause' as const, 'resume' as const),
      topic: fc.constantFrom(...TOPICS),
      partitions: fc.option(fc.subarray(PARTITIONS), { nil: undefined }),
    });
    fc.assert(fc.property(fc.array(call, { maxLength: 30 }), (calls) => {
      const paused = new PausedPartitions();
      const model = new Set<string>();
      for (const { kind, topic, partitions } of calls) {
        paused[kind](topic, partitions);
        for (const partition of partitions ?? PARTITIONS) {
          if (kind === 'pause') model.add(`${topic}:${partition}`);
          else model.delete(`${topic}:${partition}`);
        }
      }
      for (const topic of TOPICS) {
        for (const partition of PARTITIONS) expect(paused.isPaused(topic, partition)).toBe(model.has(`${topic}:${partition}`));
      }
    }));
  });
});
