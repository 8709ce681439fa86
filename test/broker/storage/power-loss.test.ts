/**
 * What survives a power loss, under each flush policy, through the whole storage engine
 * (LogManager → PartitionLog → LogSegment) on a PowerLossIo (test/helpers/power-loss-io.ts).
 *
 * The three policies and what each promises:
 * - flush.messages=1: an append is acknowledged once its `flushed` promise resolves, and every
 *   acknowledged batch survives, byte for byte, at its offset.
 * - flush.ms: acknowledged batches may be lost, but only those that arrived since the last
 *   completed flush; what survives is a prefix of what was appended (no hole, no reordering, no
 *   corrupt batch).
 * - Kafka's default (no flush settings): nothing is fsynced on append; on power loss the
 *   unflushed tail is gone and its offsets are given to the next appends.
 *
 * Every test reopens the directory with a plain LogManager (real io), which recovers it.
 */

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { isMiniKafkaError } from '../../../common/errors.ts';
import type { BatchInput, CompressionName } from '../../../common/record-batch.ts';
import { decodeRecordBatch, encodeRecordBatch, isCrcValid, iterateRecordBatches } from '../../../common/record-batch.ts';
import { ManualClock } from '../../../broker/storage/clock.ts';
import { writeFileAtomic } from '../../../broker/storage/file-io.ts';
import type { LogConfig } from '../../../broker/storage/log-config.ts';
import { resolveLogConfig } from '../../../broker/storage/log-config.ts';
import { LogManager } from '../../../broker/storage/log-manager.ts';
import type { PartitionLog } from '../../../broker/storage/partition-log.ts';
import { PowerLossIo } from '../../helpers/power-loss-io.ts';

const TOPIC = 'orders';
const START_MS = 1_700_000_000_000;

/** Tiny limits so a few appends roll segments and fill indexes (style guide: proglog's lesson). */
function tinyConfig(overrides: Partial<LogConfig> = {}): LogConfig {
  return resolveLogConfig({
    segmentBytes: 1024,
    segmentIndexBytes: 48,
    indexIntervalBytes: 100,
    retentionBytes: 1024,
    retentionMs: -1,
    ...overrides,
  });
}

const temporaryDirs: string[] = [];

function makeTemporaryDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'minikafka-power-loss-'));
  temporaryDirs.push(dir);
  return dir;
}

afterEach(() => {
  for (const dir of temporaryDirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

/** One batch as the log stored it (base offset assigned), and whether the producer was told so. */
interface AppendedBatch {
  readonly baseOffset: number;
  readonly lastOffset: number;
  readonly bytes: Buffer;
  isAcknowledged: boolean;
}

/** Appends and keeps a copy of the stored bytes: append() rewrites the base offset in place. */
function appendBatch(log: PartitionLog, input: BatchInput, appended: AppendedBatch[]): { entry: AppendedBatch; flushed: Promise<void> | null } {
  const batch = encodeRecordBatch(input);
  const result = log.append(batch);
  const entry: AppendedBatch = { baseOffset: result.baseOffset, lastOffset: result.lastOffset, bytes: Buffer.from(batch), isAcknowledged: false };
  appended.push(entry);
  return { entry, flushed: result.flushed };
}

interface StoredBatch {
  readonly baseOffset: number;
  readonly lastOffset: number;
  readonly bytes: Buffer;
}

/** Every batch the log serves, from its start to its end, each copied out of the read buffer. */
function readAllBatches(log: PartitionLog): StoredBatch[] {
  const batches: StoredBatch[] = [];
  let offset = log.logStartOffset;
  // Each read returns at least one batch, so the log's offset count bounds the loop.
  for (let reads = 0; offset < log.nextOffset && reads <= log.nextOffset - log.logStartOffset; reads++) {
    const result = log.read(offset, 64 * 1024);
    if (result === null) break;
    for (const { position, header } of iterateRecordBatches(result.bytes)) {
      batches.push({ baseOffset: header.baseOffset, lastOffset: header.lastOffset, bytes: Buffer.from(result.bytes.subarray(position, position + header.sizeBytes)) });
    }
    offset = result.lastOffset + 1;
  }
  return batches;
}

/**
 * The recovered log holds a prefix of what was appended (from its log start on), byte for byte,
 * reaching at least the last batch `mustKeep` accepts, and nothing past its log end offset.
 * `logStartOffsetAtLoss` bounds the log start: retention may be undone by a loss, never advanced.
 */
function expectPrefixOfAppended(log: PartitionLog, appended: AppendedBatch[], mustKeep: (batch: AppendedBatch) => boolean, logStartOffsetAtLoss: number): StoredBatch[] {
  expect(log.logStartOffset).toBeLessThanOrEqual(logStartOffsetAtLoss);
  const expected = appended.filter((batch) => batch.baseOffset >= log.logStartOffset);
  const survivors = readAllBatches(log);
  expect(survivors.length).toBeLessThanOrEqual(expected.length);
  survivors.forEach((survivor, i) => {
    expect(survivor.baseOffset, `batch ${i} after the log start`).toBe(expected[i].baseOffset);
    expect(isCrcValid(survivor.bytes), `CRC of the batch at offset ${survivor.baseOffset}`).toBe(true);
    expect(survivor.bytes.equals(expected[i].bytes), `bytes of the batch at offset ${survivor.baseOffset}`).toBe(true);
  });
  let lastKept = expected.length - 1;
  while (lastKept >= 0 && !mustKeep(expected[lastKept])) lastKept -= 1;
  expect(survivors.length, `batches kept; the one at offset ${expected[lastKept]?.baseOffset} had to be`).toBeGreaterThan(lastKept);
  expect(log.nextOffset).toBe(survivors.length === 0 ? log.logStartOffset : survivors.at(-1)!.lastOffset + 1);
  expect(log.read(log.nextOffset, 1024)).toBeNull();
  expect(() => log.read(log.nextOffset + 1, 1024)).toThrow(expect.objectContaining({ code: 'OFFSET_OUT_OF_RANGE' }));
  return survivors;
}

/** Reopens the data directory the way a broker restarting after the loss would. */
async function reopen(dataDir: string, config: LogConfig): Promise<{ manager: LogManager; log: PartitionLog }> {
  const manager = await LogManager.open({ dataDir, lock: false, clock: new ManualClock(START_MS) });
  expect(manager.hadCleanShutdown).toBe(false);
  return { manager, log: manager.openLog(TOPIC, 0, config) };
}

const fieldArbitrary = fc.option(fc.uint8Array({ maxLength: 40 }).map((bytes) => Buffer.from(bytes)), { nil: null });

const batchArbitrary: fc.Arbitrary<BatchInput> = fc.record({
  records: fc.array(
    fc.record({
      key: fieldArbitrary,
      value: fc.option(fc.uint8Array({ maxLength: 160 }).map((bytes) => Buffer.from(bytes)), { nil: null }),
      headers: fc.array(fc.record({ key: fc.string({ maxLength: 6 }), value: fieldArbitrary }), { maxLength: 2 }),
      timestamp: fc.integer({ min: START_MS, max: START_MS + 10_000 }),
    }),
    { minLength: 1, maxLength: 4 },
  ),
  compression: fc.constantFrom<CompressionName>('none', 'none', 'gzip'),
});

describe('PowerLossIo', () => {
  it('loses a write that no fsync covered and keeps what the last fsync saw', async () => {
    const root = makeTemporaryDir();
    const io = new PowerLossIo(root);
    const file = path.join(root, 'a');
    const fd = io.open(file, 'wx+');
    io.write(fd, Buffer.from('durable'), 0, 7, 0);
    await io.fsync(fd);
    await io.fsyncDir(root);
    io.write(fd, Buffer.from('+lost'), 0, 5, 7);
    const neverSynced = io.open(path.join(root, 'b'), 'wx+');
    io.write(neverSynced, Buffer.from('lost too'), 0, 8, 0);
    await io.fsyncDir(root);
    io.simulatePowerLoss();
    expect(fs.readFileSync(file, 'utf8')).toBe('durable');
    // Its name was made durable, its bytes never were.
    expect(fs.readFileSync(path.join(root, 'b'), 'utf8')).toBe('');
    expect(io.openFdCount).toBe(0);
  });

  it('loses a file that was fsynced when its directory was not', async () => {
    const root = makeTemporaryDir();
    const io = new PowerLossIo(root);
    io.mkdir(path.join(root, 'sub'));
    const inSub = io.open(path.join(root, 'sub', 'f'), 'wx+');
    io.write(inSub, Buffer.from('x'), 0, 1, 0);
    await io.fsync(inSub);
    await io.fsyncDir(path.join(root, 'sub'));
    const inRoot = io.open(path.join(root, 'g'), 'wx+');
    io.write(inRoot, Buffer.from('y'), 0, 1, 0);
    await io.fsync(inRoot);
    io.simulatePowerLoss();
    // sub/ was fsynced but root never was, so neither sub nor g has a durable name.
    expect(fs.readdirSync(root)).toEqual([]);
  });

  it('keeps the content under the new name after a rename and a directory fsync', async () => {
    const root = makeTemporaryDir();
    const io = new PowerLossIo(root);
    await writeFileAtomic(io, root, 'checkpoint', Buffer.from('old'));
    await writeFileAtomic(io, root, 'checkpoint', Buffer.from('new'));
    io.simulatePowerLoss();
    expect(fs.readdirSync(root)).toEqual(['checkpoint']);
    expect(fs.readFileSync(path.join(root, 'checkpoint'), 'utf8')).toBe('new');
  });

  it('undoes a rename whose directory was not fsynced afterwards', async () => {
    const root = makeTemporaryDir();
    const io = new PowerLossIo(root);
    const fd = io.open(path.join(root, 'a.tmp'), 'wx+');
    io.write(fd, Buffer.from('content'), 0, 7, 0);
    await io.fsync(fd);
    io.close(fd);
    await io.fsyncDir(root);
    io.rename(path.join(root, 'a.tmp'), path.join(root, 'a'));
    io.simulatePowerLoss();
    expect(fs.readdirSync(root)).toEqual(['a.tmp']);
    expect(fs.readFileSync(path.join(root, 'a.tmp'), 'utf8')).toBe('content');
  });

  it('keeps what was on disk before it started watching, and refuses every call once the power is off', async () => {
    const root = makeTemporaryDir();
    fs.mkdirSync(path.join(root, 'old'));
    fs.writeFileSync(path.join(root, 'old', 'file'), 'before');
    const io = new PowerLossIo(root);
    const fd = io.open(path.join(root, 'old', 'file'), 'r+');
    io.write(fd, Buffer.from('AFTER!'), 0, 6, 0);
    io.simulatePowerLoss();
    expect(fs.readFileSync(path.join(root, 'old', 'file'), 'utf8')).toBe('before');
    expect(() => io.exists(root)).toThrow(/power is off/);
    await expect(io.fsync(fd)).rejects.toThrow(/power is off/);
  });
});

describe('power loss with flush.messages=1', () => {
  type Command = { kind: 'append'; batch: BatchInput } | { kind: 'roll' } | { kind: 'retention' } | { kind: 'checkpoint' };
  const commandArbitrary: fc.Arbitrary<Command> = fc.oneof(
    { arbitrary: batchArbitrary.map((batch) => ({ kind: 'append' as const, batch })), weight: 8 },
    { arbitrary: fc.constant({ kind: 'roll' as const }), weight: 1 },
    { arbitrary: fc.constant({ kind: 'retention' as const }), weight: 1 },
    { arbitrary: fc.constant({ kind: 'checkpoint' as const }), weight: 1 },
  );

  it('LogManager keeps every acknowledged batch byte for byte at its offset, whatever point the power goes out at', async () => {
    const config = tinyConfig({ flushMessages: 1 });
    await fc.assert(
      fc.asyncProperty(
        // size 'max': long enough runs that segments roll and retention deletes some of them.
        fc.array(commandArbitrary, { minLength: 1, maxLength: 60, size: 'max' }),
        fc.array(batchArbitrary, { maxLength: 3 }),
        fc.nat({ max: 8 }),
        async (commands, inFlight, ticksBeforeLoss) => {
          const dataDir = makeTemporaryDir();
          const io = new PowerLossIo(dataDir);
          const appended: AppendedBatch[] = [];
          let logStartOffsetAtLoss: number;
          {
            const manager = await LogManager.open({ dataDir, io, lock: false, clock: new ManualClock(START_MS) });
            const log = manager.openLog(TOPIC, 0, config);
            for (const command of commands) {
              if (command.kind === 'append') {
                const { entry, flushed } = appendBatch(log, command.batch, appended);
                expect(flushed).not.toBeNull();
                await flushed;
                entry.isAcknowledged = true;
              } else if (command.kind === 'roll') log.roll();
              else if (command.kind === 'retention') manager.runRetention();
              else await manager.checkpoint();
            }
            // Appends whose fsync may or may not finish before the power goes out.
            for (const batch of inFlight) {
              const { entry, flushed } = appendBatch(log, batch, appended);
              flushed!.then(() => (entry.isAcknowledged = true), () => undefined);
            }
            for (let tick = 0; tick < ticksBeforeLoss; tick++) await new Promise((resolve) => setImmediate(resolve));
            logStartOffsetAtLoss = log.logStartOffset;
            // The manager and log go out of scope unclosed: a close would flush.
          }
          io.simulatePowerLoss();
          const { manager, log } = await reopen(dataDir, config);
          try {
            expectPrefixOfAppended(log, appended, (batch) => batch.isAcknowledged, logStartOffsetAtLoss);
          } finally {
            await manager.close();
          }
        },
      ),
      // Shrinking replays whole runs; the time limit keeps a failing run's report inside the test timeout.
      { numRuns: 40, interruptAfterTimeLimit: 30_000 },
    );
  });
});

describe('power loss with flush.ms', () => {
  type Command = { kind: 'append'; batch: BatchInput } | { kind: 'sleep'; ms: number } | { kind: 'roll' };
  const commandArbitrary: fc.Arbitrary<Command> = fc.oneof(
    { arbitrary: batchArbitrary.map((batch) => ({ kind: 'append' as const, batch })), weight: 6 },
    { arbitrary: fc.integer({ min: 0, max: 30 }).map((ms) => ({ kind: 'sleep' as const, ms })), weight: 2 },
    { arbitrary: fc.constant({ kind: 'roll' as const }), weight: 1 },
  );
  /** Bounds the real time one run sleeps: flush.ms runs on real timers. */
  const MAX_SLEEP_PER_RUN_MS = 120;

  it('LogManager loses at most what arrived since the last flush, and keeps a prefix of what was appended', async () => {
    const config = tinyConfig({ flushMs: 20 });
    await fc.assert(
      fc.asyncProperty(
        fc.array(commandArbitrary, { maxLength: 20, size: 'max' }),
        fc.array(commandArbitrary, { maxLength: 20, size: 'max' }),
        fc.array(batchArbitrary, { minLength: 1, maxLength: 3 }),
        async (beforeFlush, afterFlush, lastAppends) => {
          const dataDir = makeTemporaryDir();
          const io = new PowerLossIo(dataDir);
          const appended: AppendedBatch[] = [];
          let sleptMs = 0;
          let recoveryPointAtLoss: number;
          let logStartOffsetAtLoss: number;
          {
            const manager = await LogManager.open({ dataDir, io, lock: false, clock: new ManualClock(START_MS) });
            const log = manager.openLog(TOPIC, 0, config);
            const run = async (commands: Command[]): Promise<void> => {
              for (const command of commands) {
                if (command.kind === 'append') {
                  const { entry, flushed } = appendBatch(log, command.batch, appended);
                  expect(flushed).toBeNull();
                  // Acknowledged without an fsync, as flush.ms does: the producer hears back at once.
                  entry.isAcknowledged = true;
                } else if (command.kind === 'roll') log.roll();
                else if (sleptMs + command.ms <= MAX_SLEEP_PER_RUN_MS) {
                  sleptMs += command.ms;
                  await new Promise((resolve) => setTimeout(resolve, command.ms));
                }
              }
            };
            await run(beforeFlush);
            const endAtFlush = log.nextOffset;
            await log.flush();
            expect(log.recoveryPoint).toBeGreaterThanOrEqual(endAtFlush);
            await run(afterFlush);
            for (const batch of lastAppends) appendBatch(log, batch, appended).entry.isAcknowledged = true;
            // No await since the last appends: the power goes out before any fsync could cover them.
            recoveryPointAtLoss = log.recoveryPoint;
            logStartOffsetAtLoss = log.logStartOffset;
          }
          io.simulatePowerLoss();
          const { manager, log } = await reopen(dataDir, config);
          try {
            expectPrefixOfAppended(log, appended, (batch) => batch.lastOffset < recoveryPointAtLoss, logStartOffsetAtLoss);
            // The last appends never met an fsync, so the loss always takes at least one batch.
            expect(log.nextOffset).toBeLessThanOrEqual(appended.at(-lastAppends.length)!.baseOffset);
          } finally {
            await manager.close();
          }
        },
      ),
      { numRuns: 25, interruptAfterTimeLimit: 30_000 },
    );
  });
});

describe("power loss with Kafka's default flush policy", () => {
  it('LogManager loses what was appended since the last fsync, and gives its offsets to the next appends', async () => {
    // segment.bytes is large: no roll, so no fsync, happens while the test appends.
    const config = resolveLogConfig({ retentionMs: -1 });
    const dataDir = makeTemporaryDir();
    const appended: AppendedBatch[] = [];
    const batch = (value: string): BatchInput => ({ records: [{ key: 'k', value, timestamp: START_MS }] });
    {
      const manager = await LogManager.open({ dataDir, lock: false });
      const log = manager.openLog(TOPIC, 0, config);
      for (const value of ['a', 'b', 'c']) appendBatch(log, batch(value), appended);
      // A clean shutdown flushes everything.
      await manager.close();
    }
    const io = new PowerLossIo(dataDir);
    {
      const manager = await LogManager.open({ dataDir, io, lock: false });
      const log = manager.openLog(TOPIC, 0, config);
      for (const value of ['lost-1', 'lost-2']) {
        const { entry, flushed } = appendBatch(log, batch(value), appended);
        // The default policy never asks for an fsync: the producer is answered at once.
        expect(flushed).toBeNull();
        entry.isAcknowledged = true;
      }
      expect(log.nextOffset).toBe(5);
    }
    io.simulatePowerLoss();
    const { manager, log } = await reopen(dataDir, config);
    try {
      expect(log.nextOffset).toBe(3);
      expect(readAllBatches(log).map((stored) => stored.bytes)).toEqual(appended.slice(0, 3).map((entry) => entry.bytes));
      const reused = appendBatch(log, batch('new'), []);
      expect(reused.entry.baseOffset).toBe(appended[3].baseOffset);
      const [served] = readAllBatches(log).slice(3);
      expect(decodeRecordBatch(served.bytes).records[0].value?.toString()).toBe('new');
      expect(served.bytes.equals(appended[3].bytes)).toBe(false);
    } finally {
      await manager.close();
    }
  });

  it('LogManager loses a whole new partition when nothing was fsynced since it was created', async () => {
    const dataDir = makeTemporaryDir();
    const io = new PowerLossIo(dataDir);
    {
      const manager = await LogManager.open({ dataDir, io, lock: false });
      const log = manager.openLog(TOPIC, 0, resolveLogConfig());
      expect(log.append(encodeRecordBatch({ records: [{ value: 'gone' }] })).baseOffset).toBe(0);
    }
    io.simulatePowerLoss();
    // Not even the partition's directory entry reached the disk.
    expect(fs.readdirSync(dataDir)).toEqual([]);
    const { manager, log } = await reopen(dataDir, resolveLogConfig());
    try {
      expect(log.nextOffset).toBe(0);
      let thrown: unknown;
      try {
        log.read(1, 1024);
      } catch (error) {
        thrown = error;
      }
      expect(isMiniKafkaError(thrown, 'OFFSET_OUT_OF_RANGE')).toBe(true);
    } finally {
      await manager.close();
    }
  });
});
