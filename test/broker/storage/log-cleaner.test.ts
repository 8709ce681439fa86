/**
 * The log cleaner on real partition logs in temporary directories: what one pass keeps and drops,
 * where it stops (active segment, recovery point, offset map limit), tombstones and their delete
 * horizon, producer state, merging, the cleaner checkpoint, what happens when the log changes
 * under a pass, the round that picks logs by dirty ratio, and startup finishing a swap.
 */

import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RecordBatchHeader } from '../../../common/record-batch.ts';
import { decodeRecordBatch, encodeRecordBatch, iterateRecordBatches } from '../../../common/record-batch.ts';
import { DELETE_HORIZON_BIT } from '../../../broker/storage/cleaned-batch.ts';
import { ManualClock } from '../../../broker/storage/clock.ts';
import { nodeFileIo } from '../../../broker/storage/file-io.ts';
import type { LogConfig } from '../../../broker/storage/log-config.ts';
import { CleanupPolicyBits, cleanupPolicyBits, resolveLogConfig } from '../../../broker/storage/log-config.ts';
import { CLEANER_OFFSET_CHECKPOINT, readCleanerCheckpoint } from '../../../broker/storage/cleaner-checkpoint.ts';
import { LogCleaner } from '../../../broker/storage/log-cleaner.ts';
import { PartitionLog } from '../../../broker/storage/partition-log.ts';
import { StorageCounters } from '../../../broker/storage/storage-observer.ts';
import { makeTempDir } from '../../helpers/temp-dir.ts';

const START_MS = 1_700_000_000_000;
const DAY_MS = 86_400_000;

function compactConfig(overrides: Partial<LogConfig> = {}): LogConfig {
  return resolveLogConfig({ segmentBytes: 300, indexIntervalBytes: 64, cleanupPolicy: CleanupPolicyBits.compact, retentionMs: -1, ...overrides });
}

interface Setup {
  readonly dir: string;
  readonly clock: ManualClock;
  readonly config: LogConfig;
  log: PartitionLog;
  cleaner: LogCleaner;
}

function setUp(config: LogConfig = compactConfig(), options: { dedupeBufferBytes?: number; name?: string } = {}): Setup {
  const dir = path.join(makeTempDir('minikafka-cleaner-'), options.name ?? 'orders-0');
  const clock = new ManualClock(START_MS);
  const log = PartitionLog.open({ dir, config, clock });
  const setup = { dir, clock, config, log } as Setup;
  setup.cleaner = new LogCleaner({ logs: () => [setup.log], clock, dedupeBufferBytes: options.dedupeBufferBytes });
  return setup;
}

type Entry = [key: string | null, value: string | null];

/** Appends one batch; the clock moves 1 ms per batch so that every batch has its own timestamp. */
function append(setup: Setup, records: Entry[], producer?: { producerId: number; baseSequence: number }): number {
  setup.clock.advance(1);
  const batch = encodeRecordBatch({ records: records.map(([key, value]) => ({ key, value, timestamp: setup.clock.nowMs() })), ...(producer === undefined ? {} : { ...producer, producerEpoch: 0 }) });
  return setup.log.append(batch).baseOffset;
}

/** One batch per record, then a roll and a flush, so that all of them are cleanable. */
async function appendAndSettle(setup: Setup, records: Entry[]): Promise<void> {
  for (const record of records) append(setup, [record]);
  setup.log.roll();
  await setup.log.flush();
}

interface Served {
  readonly offset: number;
  readonly key: string | null;
  readonly value: string | null;
}

function readBatches(log: PartitionLog): Array<{ header: RecordBatchHeader; records: Served[]; timestamps: number[] }> {
  const batches = [];
  let offset = log.logStartOffset;
  while (offset < log.nextOffset) {
    const result = log.read(offset, 1 << 20);
    if (result === null) break;
    for (const { position, header } of iterateRecordBatches(result.bytes)) {
      const decoded = decodeRecordBatch(result.bytes, position).records;
      const records = decoded.map((r) => ({ offset: r.offset, key: r.key?.toString() ?? null, value: r.value?.toString() ?? null }));
      batches.push({ header, records, timestamps: decoded.map((r) => r.timestamp) });
    }
    offset = result.lastOffset + 1;
  }
  return batches;
}

function readRecords(log: PartitionLog): Served[] {
  return readBatches(log).flatMap((batch) => batch.records);
}

const served = (offset: number, key: string, value: string | null): Served => ({ offset, key, value });

describe('LogCleaner.cleanNow()', () => {
  it('keeps the latest record of every key at its offset and drops the older ones, leaving the active segment alone', async () => {
    const setup = setUp();
    await appendAndSettle(setup, [['a', '1'], ['b', '1'], ['a', '2'], ['c', '1'], ['b', '2'], ['a', '3'], ['d', '1'], ['c', '2']]);
    append(setup, [['a', 'active'], ['a', 'active-2']]);
    const activeBefore = setup.log.segments.at(-1);
    const result = await setup.cleaner.cleanNow(setup.log);
    expect(result).toMatchObject({ isComplete: true, firstDirtyOffset: 0, mappedUpToOffset: 8, rewrittenUpToOffset: 8, recordsRemoved: 4, tombstonesRemoved: 0 });
    expect(readRecords(setup.log)).toEqual([served(4, 'b', '2'), served(5, 'a', '3'), served(6, 'd', '1'), served(7, 'c', '2'), served(8, 'a', 'active'), served(9, 'a', 'active-2')]);
    expect(setup.log.segments.at(-1)).toEqual(activeBefore);
    expect(setup.log.nextOffset).toBe(10);
    expect(readCleanerCheckpoint(nodeFileIo, setup.dir)).toBe(8);
    expect(fs.readFileSync(path.join(setup.dir, CLEANER_OFFSET_CHECKPOINT), 'utf8')).toBe('0\n1\norders 0 8\n');
    expect(fs.readdirSync(setup.dir).filter((name) => /\.(cleaned|swap|deleted)$/.test(name))).toEqual([]);
  });

  it('cleans no segment above the recovery point, so no record goes because of one a power loss could still take', async () => {
    const setup = setUp();
    await appendAndSettle(setup, [['a', '1'], ['a', '2'], ['a', '3'], ['a', '4'], ['a', '5']]);
    await setup.log.close();
    // After an unclean stop with no checkpoint, nothing is known to be fsynced until a flush.
    setup.log = PartitionLog.open({ dir: setup.dir, config: setup.config, clock: setup.clock, hadCleanShutdown: false, recoveryPoint: 0 });
    expect(setup.log.recoveryPoint).toBe(0);
    expect(await setup.cleaner.cleanNow(setup.log)).toMatchObject({ isComplete: true, segmentsReplaced: 0, recordsRemoved: 0 });
    expect(readRecords(setup.log)).toHaveLength(5);
    await setup.log.flush();
    expect(setup.log.recoveryPoint).toBe(5);
    expect(await setup.cleaner.cleanNow(setup.log)).toMatchObject({ recordsRemoved: 4 });
    expect(readRecords(setup.log)).toEqual([served(4, 'a', '5')]);
  });

  it('keeps a tombstone with a delete horizon of delete.retention.ms and drops it with a pass at or after that time', async () => {
    const setup = setUp(compactConfig({ deleteRetentionMs: DAY_MS }));
    await appendAndSettle(setup, [['a', '1'], ['b', '1'], ['a', null], ['c', '1']]);
    append(setup, [['z', '1']]);
    const tombstoneTimestamp = START_MS + 3;
    await setup.cleaner.cleanNow(setup.log);
    const passMs = setup.clock.nowMs();
    expect(readRecords(setup.log)).toEqual([served(1, 'b', '1'), served(2, 'a', null), served(3, 'c', '1'), served(4, 'z', '1')]);
    const stamped = readBatches(setup.log).find((batch) => batch.header.baseOffset === 2)!;
    expect(stamped.header.attributes & DELETE_HORIZON_BIT).toBe(DELETE_HORIZON_BIT);
    expect(stamped.header.baseTimestamp).toBe(passMs + DAY_MS);
    expect(stamped.timestamps).toEqual([tombstoneTimestamp]);
    // Other batches got no horizon: only a batch that keeps a tombstone is stamped.
    expect(readBatches(setup.log).filter((batch) => batch.header.attributes & DELETE_HORIZON_BIT).map((batch) => batch.header.baseOffset)).toEqual([2]);

    setup.clock.advance(DAY_MS - 1);
    expect(await setup.cleaner.cleanNow(setup.log)).toMatchObject({ tombstonesRemoved: 0 });
    expect(readRecords(setup.log).map((record) => record.offset)).toContain(2);
    setup.clock.advance(1);
    expect(await setup.cleaner.cleanNow(setup.log)).toMatchObject({ tombstonesRemoved: 1 });
    expect(readRecords(setup.log)).toEqual([served(1, 'b', '1'), served(3, 'c', '1'), served(4, 'z', '1')]);
  });

  it('keeps the last batch of an idempotent producer, emptied, with its offsets and sequence, and drops its earlier emptied batches', async () => {
    const setup = setUp();
    append(setup, [['a', '1']], { producerId: 9, baseSequence: 0 });
    append(setup, [['a', '2'], ['b', '1']], { producerId: 9, baseSequence: 1 });
    append(setup, [['a', '3'], ['b', '2']]);
    setup.log.roll();
    await setup.log.flush();
    await setup.cleaner.cleanNow(setup.log);
    const batches = readBatches(setup.log).map(({ header, records }) => ({ baseOffset: header.baseOffset, lastOffset: header.lastOffset, producerId: header.producerId, baseSequence: header.baseSequence, records }));
    expect(batches).toEqual([
      { baseOffset: 1, lastOffset: 2, producerId: 9, baseSequence: 1, records: [] },
      { baseOffset: 3, lastOffset: 4, producerId: -1, baseSequence: -1, records: [served(3, 'a', '3'), served(4, 'b', '2')] },
    ]);
  });

  it('merges consecutive small segments up to segment.bytes and rebuilds their indexes, so offset and time lookups still work', async () => {
    const setup = setUp();
    const keys = ['a', 'b', 'c'];
    await appendAndSettle(setup, Array.from({ length: 24 }, (_, i): Entry => [keys[i % 3], `v${i}`]));
    append(setup, [['a', 'active']]);
    await setup.cleaner.cleanNow(setup.log);
    const segmentsAfterFirst = setup.log.segments.length;
    const second = await setup.cleaner.cleanNow(setup.log);
    expect(second.segmentsWritten).toBeLessThan(second.segmentsReplaced);
    expect(setup.log.segments.length).toBeLessThan(segmentsAfterFirst);
    for (const segment of setup.log.segments.slice(0, -1)) expect(segment.sizeBytes).toBeLessThanOrEqual(300);
    const expected = [served(21, 'a', 'v21'), served(22, 'b', 'v22'), served(23, 'c', 'v23'), served(24, 'a', 'active')];
    expect(readRecords(setup.log)).toEqual(expected);
    // An offset lookup through the rebuilt index finds what a scan of every batch finds.
    const lastOffsets = readBatches(setup.log).map((batch) => batch.header.lastOffset);
    for (let offset = 0; offset <= 24; offset++) expect(setup.log.read(offset, 1)!.lastOffset).toBe(lastOffsets.find((last) => last >= offset));
    // Record i was appended at START_MS + 1 + i; a removed record's time finds the next one kept.
    expect(setup.log.findOffsetByTimestamp(START_MS + 5)).toEqual({ offset: 21, timestamp: START_MS + 22 });
    expect(setup.log.findOffsetByTimestamp(START_MS + 23)).toEqual({ offset: 22, timestamp: START_MS + 23 });
    // The rebuilt indexes reach the disk sane: a clean reopen rebuilds nothing.
    await setup.log.close();
    const counters = new StorageCounters();
    const reopened = PartitionLog.open({ dir: setup.dir, config: setup.config, hadCleanShutdown: true, metrics: counters });
    expect(counters.indexesRebuilt).toBe(0);
    expect(readRecords(reopened)).toEqual(expected);
    await reopened.close();
  });

  it('with a small dedupe buffer cleans in several passes, each going further, and ends where one large pass does', async () => {
    const entries = Array.from({ length: 30 }, (_, i): Entry => [`k${(i * 7) % 6}`, i % 9 === 8 ? null : `v${i}`]);
    const small = setUp(compactConfig(), { dedupeBufferBytes: 2 * (64 + 2) });
    const large = setUp();
    await appendAndSettle(small, entries);
    await appendAndSettle(large, entries);
    await large.cleaner.cleanNow(large.log);
    const checkpoints: number[] = [];
    for (let passes = 0; checkpoints.at(-1) !== small.log.segments.at(-1)!.baseOffset; passes++) {
      expect(passes).toBeLessThan(entries.length);
      checkpoints.push((await small.cleaner.cleanNow(small.log)).mappedUpToOffset);
    }
    expect(checkpoints.length).toBeGreaterThan(2);
    expect([...checkpoints].sort((a, b) => a - b)).toEqual(checkpoints);
    expect(new Set(checkpoints).size).toBe(checkpoints.length);
    expect(readRecords(small.log)).toEqual(readRecords(large.log));
  });

  it('drops records without a key, as Kafka\'s cleaner does (a topic switched to compact may hold some)', async () => {
    const setup = setUp();
    await appendAndSettle(setup, [[null, 'x'], ['a', '1'], [null, 'y']]);
    await setup.cleaner.cleanNow(setup.log);
    expect(readRecords(setup.log)).toEqual([served(1, 'a', '1')]);
  });

  it('refuses a log whose cleanup.policy does not include compact', () => {
    const setup = setUp(compactConfig({ cleanupPolicy: cleanupPolicyBits('delete') }));
    expect(() => setup.cleaner.cleanNow(setup.log)).toThrow(/cleanup.policy compact/);
  });
});

describe('LogCleaner when the log changes under a pass', () => {
  it('gives up when retention deletes a segment it is reading, deletes its unfinished file and loses nothing else', async () => {
    const setup = setUp(compactConfig({ cleanupPolicy: cleanupPolicyBits('compact,delete') }));
    await appendAndSettle(setup, Array.from({ length: 12 }, (_, i): Entry => [`k${i % 4}`, `v${i}`]));
    const before = readRecords(setup.log);
    const pass = setup.cleaner.cleanNow(setup.log);
    await Promise.resolve(); // the pass is at its first yield
    setup.log.updateConfig(compactConfig({ cleanupPolicy: cleanupPolicyBits('compact,delete'), retentionBytes: 500 }));
    expect(setup.log.deleteOldSegments()).toBeGreaterThan(0);
    const result = await pass;
    expect(result.isComplete).toBe(false);
    expect(fs.existsSync(path.join(setup.dir, CLEANER_OFFSET_CHECKPOINT))).toBe(false);
    expect(fs.readdirSync(setup.dir).filter((name) => name.endsWith('.cleaned'))).toEqual([]);
    expect(setup.log.logStartOffset).toBeGreaterThan(0);
    const kept = before.filter((record) => record.offset >= setup.log.logStartOffset);
    expect(kept.length).toBeGreaterThan(0);
    expect(readRecords(setup.log)).toEqual(kept);
  });

  it('gives up when the log is truncated during a pass, and the next pass starts again from the log start', async () => {
    const setup = setUp();
    await appendAndSettle(setup, Array.from({ length: 12 }, (_, i): Entry => [`k${i % 4}`, `v${i}`]));
    expect((await setup.cleaner.cleanNow(setup.log)).mappedUpToOffset).toBe(12);
    await appendAndSettle(setup, [['k0', 'late']]);
    const pass = setup.cleaner.cleanNow(setup.log);
    await Promise.resolve();
    setup.log.truncateTo(12);
    expect((await pass).isComplete).toBe(false);
    append(setup, [['k0', 'again']]);
    setup.log.roll();
    await setup.log.flush();
    const next = await setup.cleaner.cleanNow(setup.log);
    expect(next).toMatchObject({ isComplete: true, firstDirtyOffset: 0 });
    expect(readRecords(setup.log)).toEqual([served(9, 'k1', 'v9'), served(10, 'k2', 'v10'), served(11, 'k3', 'v11'), served(12, 'k0', 'again')]);
  });
});

describe('LogCleaner state across restarts', () => {
  it('resumes from its checkpoint after a reopen, and recovery after an unclean stop accepts cleaned segments whole', async () => {
    const setup = setUp();
    await appendAndSettle(setup, Array.from({ length: 10 }, (_, i): Entry => [`k${i % 3}`, `v${i}`]));
    await setup.cleaner.cleanNow(setup.log);
    const records = readRecords(setup.log);
    // Unclean: the object is dropped with its files open; recovery scans every segment from 0.
    const counters = new StorageCounters();
    setup.log = PartitionLog.open({ dir: setup.dir, config: setup.config, clock: setup.clock, hadCleanShutdown: false, recoveryPoint: 0, metrics: counters });
    expect(counters.recoveryCuts).toEqual([]);
    expect(readRecords(setup.log)).toEqual(records);
    await appendAndSettle(setup, [['k0', 'new']]);
    const cleaner = new LogCleaner({ logs: () => [setup.log], clock: setup.clock });
    expect(await cleaner.cleanNow(setup.log)).toMatchObject({ firstDirtyOffset: 10, mappedUpToOffset: 11 });
    expect(readRecords(setup.log)).toEqual([served(7, 'k1', 'v7'), served(8, 'k2', 'v8'), served(10, 'k0', 'new')]);
    await setup.log.close();
  });

  it('treats the whole log as dirty when the checkpoint does not parse', async () => {
    const setup = setUp();
    await appendAndSettle(setup, [['a', '1'], ['a', '2']]);
    fs.writeFileSync(path.join(setup.dir, CLEANER_OFFSET_CHECKPOINT), 'garbage');
    expect(readCleanerCheckpoint(nodeFileIo, setup.dir)).toBeNull();
    expect(await setup.cleaner.cleanNow(setup.log)).toMatchObject({ firstDirtyOffset: 0, recordsRemoved: 1 });
  });

  it('PartitionLog.open() completes an interrupted swap and throws away an unfinished cleaned file', async () => {
    const original = setUp();
    await appendAndSettle(original, Array.from({ length: 16 }, (_, i): Entry => [`k${i % 3}`, `v${i}`]));
    const originalRecords = readRecords(original.log);
    await original.log.close();
    const copyDir = path.join(makeTempDir('minikafka-cleaner-copy-'), 'orders-0');
    fs.cpSync(original.dir, copyDir, { recursive: true });
    const copy = PartitionLog.open({ dir: copyDir, config: original.config, clock: original.clock, hadCleanShutdown: true });
    const cleaner = new LogCleaner({ logs: () => [copy], clock: original.clock });
    await cleaner.cleanNow(copy);
    const [first, second] = copy.segments;
    const cleanedRecords = readRecords(copy).filter((record) => record.offset < second.baseOffset);
    await copy.close();
    const name = (base: number, suffix: string): string => `${String(base).padStart(20, '0')}${suffix}`;
    // The state a crash right after step 1 leaves: the new segment named .swap, the old ones all there.
    fs.copyFileSync(path.join(copyDir, name(first.baseOffset, '.log')), path.join(original.dir, name(first.baseOffset, '.log.swap')));
    fs.writeFileSync(path.join(original.dir, name(second.baseOffset, '.log.cleaned')), 'half a segment');
    const reopened = PartitionLog.open({ dir: original.dir, config: original.config, hadCleanShutdown: true });
    // The swapped range holds the new records, everything after it the old ones.
    expect(cleanedRecords.length).toBeLessThan(originalRecords.filter((record) => record.offset < second.baseOffset).length);
    expect(readRecords(reopened)).toEqual([...cleanedRecords, ...originalRecords.filter((record) => record.offset >= second.baseOffset)]);
    expect(fs.readdirSync(original.dir).filter((file) => /\.(swap|cleaned|deleted)$/.test(file))).toEqual([]);
    expect(reopened.segments.map((segment) => segment.baseOffset).filter((base) => base > first.baseOffset && base < second.baseOffset)).toEqual([]);
    await reopened.close();
  });
});

describe('LogCleaner.runOnce() and start()', () => {
  it('cleans compacted logs whose dirty ratio reaches min.cleanable.dirty.ratio, and no other', async () => {
    const dirty = setUp(compactConfig(), { name: 'dirty-0' });
    const deletePolicy = setUp(compactConfig({ cleanupPolicy: CleanupPolicyBits.delete }), { name: 'plain-0' });
    const mostlyClean = setUp(compactConfig(), { name: 'clean-0' });
    for (const setup of [dirty, deletePolicy]) await appendAndSettle(setup, [['a', '1'], ['a', '2'], ['a', '3']]);
    await appendAndSettle(mostlyClean, Array.from({ length: 8 }, (_, i): Entry => [`k${i}`, `v${i}`]));
    await mostlyClean.cleaner.cleanNow(mostlyClean.log);
    await appendAndSettle(mostlyClean, [['k0', 'again']]);
    const section = mostlyClean.cleaner.cleanableSection(mostlyClean.log);
    expect(section.dirtyRatio).toBeGreaterThan(0);
    expect(section.dirtyRatio).toBeLessThan(0.5);

    const cleaner = new LogCleaner({ logs: () => [dirty.log, deletePolicy.log, mostlyClean.log], clock: dirty.clock });
    const results = await cleaner.runOnce();
    expect(results.map((result) => path.basename(result.dir))).toEqual(['dirty-0']);
    expect(readRecords(deletePolicy.log)).toHaveLength(3);
    expect(readRecords(mostlyClean.log)).toHaveLength(9);
  });

  it('runs a pass for a log whose kept tombstones reached their delete horizon, dirty or not', async () => {
    const setup = setUp(compactConfig({ deleteRetentionMs: 1_000 }));
    await appendAndSettle(setup, [['a', '1'], ['a', null]]);
    const cleaner = new LogCleaner({ logs: () => [setup.log], clock: setup.clock });
    expect(await cleaner.runOnce()).toHaveLength(1);
    expect(await cleaner.runOnce()).toEqual([]);
    setup.clock.advance(1_000);
    const [result] = await cleaner.runOnce();
    expect(result.tombstonesRemoved).toBe(1);
    expect(readRecords(setup.log)).toEqual([]);
  });

  it('start() cleans on its own every log.cleaner.backoff.ms until close()', async () => {
    const setup = setUp();
    await appendAndSettle(setup, [['a', '1'], ['a', '2']]);
    const cleaner = new LogCleaner({ logs: () => [setup.log], backoffMs: 10 });
    cleaner.start();
    const checkpoint = path.join(setup.dir, CLEANER_OFFSET_CHECKPOINT);
    for (let waits = 0; !fs.existsSync(checkpoint) && waits < 500; waits++) await new Promise((resolve) => setTimeout(resolve, 10));
    await cleaner.close();
    expect(readRecords(setup.log)).toEqual([served(1, 'a', '2')]);
  });
});
