/**
 * The two sparse indexes against sorted-array oracles: whatever entries they hold, a lookup
 * returns what a linear search of a plain array would, in memory and after a reopen from disk.
 */

import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { nodeFileIo } from '../../../broker/storage/file-io.ts';
import { OffsetIndex } from '../../../broker/storage/offset-index.ts';
import { TimeIndex } from '../../../broker/storage/time-index.ts';
import { makeTempDir } from '../../helpers/temp-dir.ts';

/** Strictly increasing pairs built from positive steps. */
const increasingPairs = fc.array(fc.tuple(fc.integer({ min: 1, max: 1000 }), fc.integer({ min: 1, max: 5000 })), { maxLength: 300 });

describe('OffsetIndex', () => {
  it('lookup() returns the greatest entry at or below the target, like a linear search', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1e12 }), increasingPairs, fc.array(fc.integer({ min: -10, max: 400_000 }), { maxLength: 50 }), (baseOffset, steps, targets) => {
        const file = path.join(makeTempDir(), 'x.index');
        const { index } = OffsetIndex.open(nodeFileIo, file, baseOffset, 1 << 20);
        const entries: Array<{ offset: number; position: number }> = [];
        let offset = baseOffset;
        let position = 0;
        for (const [offsetStep, positionStep] of steps) {
          offset += offsetStep;
          position += positionStep;
          index.append(offset, position);
          entries.push({ offset, position });
        }
        index.close();
        const { index: reopened, isWellSized } = OffsetIndex.open(nodeFileIo, file, baseOffset, 1 << 20);
        expect(isWellSized).toBe(true);
        expect(reopened.isSane(position + 1)).toBe(true);
        for (const relative of targets) {
          const target = baseOffset + relative;
          const oracle = [...entries].reverse().find((e) => e.offset <= target) ?? { offset: baseOffset, position: 0 };
          expect(reopened.lookup(target)).toEqual(oracle);
        }
        reopened.close();
      }),
      { numRuns: 100 },
    );
  });

  it('truncateTo() drops entries at or above the offset, on disk too', () => {
    const file = path.join(makeTempDir(), 'x.index');
    const { index } = OffsetIndex.open(nodeFileIo, file, 100, 1 << 20);
    for (let i = 1; i <= 10; i++) index.append(100 + i * 10, i * 1000);
    index.writeToFile();
    index.truncateTo(150);
    expect(index.entries).toBe(4);
    index.close();
    const { index: reopened } = OffsetIndex.open(nodeFileIo, file, 100, 1 << 20);
    expect(reopened.entries).toBe(4);
    expect(reopened.lookup(1_000_000)).toEqual({ offset: 140, position: 4000 });
    reopened.close();
  });

  it('isSane() rejects entries that do not increase or point past the log', () => {
    const file = path.join(makeTempDir(), 'x.index');
    const { index } = OffsetIndex.open(nodeFileIo, file, 0, 1 << 20);
    index.append(5, 100);
    index.append(9, 300);
    expect(index.isSane(301)).toBe(true);
    expect(index.isSane(300)).toBe(false);
    index.close();
  });

  it('reports itself full at segment.index.bytes', () => {
    const file = path.join(makeTempDir(), 'x.index');
    const { index } = OffsetIndex.open(nodeFileIo, file, 0, 20);
    index.append(1, 10);
    expect(index.isFull).toBe(false);
    index.append(2, 20);
    expect(index.isFull).toBe(true);
    index.close();
  });
});

describe('TimeIndex', () => {
  it('lookup() returns the greatest entry strictly below the target, like a linear search', () => {
    fc.assert(
      fc.property(fc.integer({ min: -1e12, max: 1e13 }), increasingPairs, fc.array(fc.integer({ min: -100, max: 400_000 }), { maxLength: 50 }), (startTimestamp, steps, targets) => {
        const file = path.join(makeTempDir(), 'x.timeindex');
        const baseOffset = 1000;
        const { index } = TimeIndex.open(nodeFileIo, file, baseOffset, 1 << 20);
        const entries: Array<{ timestamp: number; offset: number }> = [];
        let timestamp = startTimestamp;
        let offset = baseOffset;
        for (const [timeStep, offsetStep] of steps) {
          timestamp += timeStep;
          offset += offsetStep % 7; // offsets may repeat: they never decrease
          index.maybeAppend(timestamp, offset);
          index.maybeAppend(timestamp, offset); // not newer: ignored
          entries.push({ timestamp, offset });
        }
        index.close();
        const { index: reopened } = TimeIndex.open(nodeFileIo, file, baseOffset, 1 << 20);
        expect(reopened.entries).toBe(entries.length);
        expect(reopened.isSane(offset + 1)).toBe(true);
        for (const relative of targets) {
          const target = startTimestamp + relative;
          const oracle = [...entries].reverse().find((e) => e.timestamp < target) ?? { timestamp: -1, offset: baseOffset };
          expect(reopened.lookup(target)).toEqual(oracle);
        }
        reopened.close();
      }),
      { numRuns: 100 },
    );
  });
});
