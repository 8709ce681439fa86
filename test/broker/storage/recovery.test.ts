/**
 * Recovery after an unclean stop: whatever happened to the tail of the log (a cut at any byte,
 * flipped bytes, garbage appended), reopening keeps exactly the longest prefix of whole, valid
 * batches, serves no bad batch, rebuilds the indexes, and reports what it cut.
 */

import fs from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeRecordBatch, iterateRecordBatches } from '../../../common/record-batch.ts';
import { resolveLogConfig } from '../../../broker/storage/log-config.ts';
import { offsetFileName } from '../../../broker/storage/file-names.ts';
import { PartitionLog } from '../../../broker/storage/partition-log.ts';
import { StorageCounters } from '../../../broker/storage/storage-observer.ts';
import { makeTempDir } from '../../helpers/temp-dir.ts';

interface Written {
  readonly dir: string;
  /** Stored bytes of each batch, in order, with their positions in the one segment. */
  readonly batches: Array<{ position: number; bytes: Buffer; baseOffset: number }>;
  readonly logPath: string;
}

/** Writes `counts.length` batches into a single-segment log and closes it without a marker. */
async function writeLog(counts: number[], valueBytes: number): Promise<Written> {
  const dir = path.join(makeTempDir(), 'topic-0');
  const log = PartitionLog.open({ dir, config: resolveLogConfig({ indexIntervalBytes: 64 }) });
  const batches: Written['batches'] = [];
  let position = 0;
  for (const [i, count] of counts.entries()) {
    const batch = encodeRecordBatch({ records: Array.from({ length: count }, (_, r) => ({ key: `k${i}.${r}`, value: Buffer.alloc(valueBytes, i + r), timestamp: 1_700_000_000_000 + i })) });
    const result = log.append(batch);
    batches.push({ position, bytes: Buffer.from(batch), baseOffset: result.baseOffset });
    position += batch.length;
  }
  await log.close();
  return { dir, batches, logPath: path.join(dir, offsetFileName(0, '.log')) };
}

/** Reopens as after a crash (no clean-shutdown marker, recovery point 0) and reads everything back. */
function recoverAndReadAll(dir: string): { log: PartitionLog; stored: Buffer; counters: StorageCounters } {
  const counters = new StorageCounters();
  const log = PartitionLog.open({ dir, config: resolveLogConfig({ indexIntervalBytes: 64 }), hadCleanShutdown: false, recoveryPoint: 0, metrics: counters });
  const parts: Buffer[] = [];
  for (let offset = log.logStartOffset; offset < log.nextOffset; ) {
    const read = log.read(offset, 1 << 20)!;
    parts.push(read.bytes);
    offset = read.lastOffset + 1;
  }
  return { log, stored: Buffer.concat(parts), counters };
}

const batchCounts = fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 1, maxLength: 25 });

describe('recovery', () => {
  it('keeps exactly the whole batches before a cut at any byte', async () => {
    await fc.assert(
      fc.asyncProperty(batchCounts, fc.double({ min: 0, max: 1, noNaN: true }), async (counts, where) => {
        const written = await writeLog(counts, 20);
        const size = fs.statSync(written.logPath).size;
        const cut = Math.floor(where * size);
        fs.truncateSync(written.logPath, cut);
        const kept = written.batches.filter((b) => b.position + b.bytes.length <= cut);
        const { log, stored, counters } = recoverAndReadAll(written.dir);
        expect(stored.equals(Buffer.concat(kept.map((b) => b.bytes)))).toBe(true);
        expect(log.nextOffset).toBe(kept.length === 0 ? 0 : kept.at(-1)!.baseOffset + counts[kept.length - 1]);
        const keptBytes = kept.reduce((sum, b) => sum + b.bytes.length, 0);
        expect(fs.statSync(written.logPath).size).toBe(keptBytes);
        expect(counters.recoveryCuts.length).toBe(cut > keptBytes ? 1 : 0);
        if (cut > keptBytes) expect(counters.recoveryCuts[0]).toMatchObject({ truncatedBytes: cut - keptBytes, position: keptBytes, nextOffset: log.nextOffset });
        await log.close();
      }),
      { numRuns: 60 },
    );
  });

  it('cuts at the batch holding a flipped byte and keeps every batch before it', async () => {
    await fc.assert(
      fc.asyncProperty(batchCounts, fc.nat(), fc.integer({ min: 1, max: 255 }), async (counts, pick, xor) => {
        const written = await writeLog(counts, 20);
        // Any byte the CRC covers, or the length and magic fields. Bytes 0..7 (base offset) and
        // 12..15 (leader epoch) lie outside Kafka's CRC by design; see docs/on-disk-format.md.
        const victimIndex = pick % written.batches.length;
        const victim = written.batches[victimIndex];
        const inBatch = [8, 9, 10, 11, 16, ...Array.from({ length: victim.bytes.length - 17 }, (_, i) => 17 + i)];
        const position = victim.position + inBatch[pick % inBatch.length];
        const file = fs.readFileSync(written.logPath);
        file[position] ^= xor;
        fs.writeFileSync(written.logPath, file);
        const { log, stored } = recoverAndReadAll(written.dir);
        const kept = written.batches.slice(0, victimIndex);
        expect(stored.equals(Buffer.concat(kept.map((b) => b.bytes)))).toBe(true);
        for (const { header } of iterateRecordBatches(stored)) expect(header.baseOffset).toBeLessThan(log.nextOffset);
        await log.close();
      }),
      { numRuns: 80 },
    );
  });

  it('cuts garbage appended after the last batch, whatever it holds', async () => {
    await fc.assert(
      fc.asyncProperty(batchCounts, fc.uint8Array({ minLength: 1, maxLength: 300 }), async (counts, garbage) => {
        const written = await writeLog(counts, 10);
        fs.appendFileSync(written.logPath, garbage);
        const { log, stored } = recoverAndReadAll(written.dir);
        expect(stored.equals(Buffer.concat(written.batches.map((b) => b.bytes)))).toBe(true);
        await log.close();
      }),
      { numRuns: 60 },
    );
  });

  it('deletes every segment after the one it had to cut', async () => {
    const dir = path.join(makeTempDir(), 't-0');
    const config = resolveLogConfig({ segmentBytes: 400 });
    const log = PartitionLog.open({ dir, config });
    for (let i = 0; i < 30; i++) log.append(encodeRecordBatch({ records: [{ value: `value-${i}`.padEnd(40, '.') }] }));
    const segments = log.segments;
    await log.close();
    expect(segments.length).toBeGreaterThan(3);
    const damaged = segments[1];
    const damagedPath = path.join(dir, offsetFileName(damaged.baseOffset, '.log'));
    fs.truncateSync(damagedPath, damaged.sizeBytes - 5);
    const counters = new StorageCounters();
    const reopened = PartitionLog.open({ dir, config, hadCleanShutdown: false, recoveryPoint: 0, metrics: counters });
    expect(reopened.segments.map((s) => s.baseOffset)).toEqual([segments[0].baseOffset, damaged.baseOffset]);
    expect(reopened.nextOffset).toBe(damaged.nextOffset - 1);
    expect(counters.recoveryCuts[0]).toMatchObject({ segmentBaseOffset: damaged.baseOffset, deletedSegments: segments.length - 2 });
    expect(fs.readdirSync(dir).filter((n) => n.endsWith('.log'))).toHaveLength(2);
    // The log takes appends again from the new end.
    expect(reopened.append(encodeRecordBatch({ records: [{ value: 'after' }] })).baseOffset).toBe(damaged.nextOffset - 1);
    await reopened.close();
  });

  it('scans only from the segment holding the recovery point', async () => {
    const dir = path.join(makeTempDir(), 't-0');
    const config = resolveLogConfig({ segmentBytes: 400 });
    const log = PartitionLog.open({ dir, config });
    for (let i = 0; i < 30; i++) log.append(encodeRecordBatch({ records: [{ value: `value-${i}`.padEnd(40, '.') }] }));
    const segments = log.segments;
    await log.close();
    // Damage the first segment's tail: below the recovery point, recovery must not look at it.
    fs.appendFileSync(path.join(dir, offsetFileName(0, '.log')), Buffer.alloc(0));
    const first = path.join(dir, offsetFileName(0, '.log'));
    const bytes = fs.readFileSync(first);
    bytes[bytes.length - 1] ^= 1;
    fs.writeFileSync(first, bytes);
    const reopened = PartitionLog.open({ dir, config, hadCleanShutdown: false, recoveryPoint: segments[2].baseOffset });
    expect(reopened.nextOffset).toBe(30);
    expect(reopened.segments).toHaveLength(segments.length);
    await reopened.close();
  });

  it('rebuilds a missing or damaged index from the log, even after a clean shutdown', async () => {
    const written = await writeLog(Array.from({ length: 40 }, () => 2), 30);
    const indexPath = written.logPath.replace(/\.log$/, '.index');
    const timeIndexPath = written.logPath.replace(/\.log$/, '.timeindex');
    const goodIndex = fs.readFileSync(indexPath);
    const goodTimeIndex = fs.readFileSync(timeIndexPath);
    expect(goodIndex.length).toBeGreaterThan(16);

    for (const damage of ['delete', 'odd-size', 'bad-entry'] as const) {
      if (damage === 'delete') fs.unlinkSync(indexPath);
      if (damage === 'odd-size') fs.writeFileSync(indexPath, goodIndex.subarray(0, goodIndex.length - 3));
      if (damage === 'bad-entry') {
        const bad = Buffer.from(goodIndex);
        bad.writeInt32BE(bad.readInt32BE(4) + 7, 4); // a position that is not a batch start
        fs.writeFileSync(indexPath, bad);
      }
      const counters = new StorageCounters();
      const log = PartitionLog.open({ dir: written.dir, config: resolveLogConfig({ indexIntervalBytes: 64 }), hadCleanShutdown: true, metrics: counters });
      for (const batch of written.batches) expect(log.read(batch.baseOffset + 1, 1)!.bytes.equals(batch.bytes)).toBe(true);
      await log.close();
      expect(fs.readFileSync(indexPath).equals(goodIndex)).toBe(true);
      expect(fs.readFileSync(timeIndexPath).equals(goodTimeIndex)).toBe(true);
    }
  });
});
