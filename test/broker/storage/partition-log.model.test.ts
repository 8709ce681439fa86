/**
 * Model-based test of PartitionLog against the simplest thing that could be right: an array of
 * the batches appended, each with the offsets it got, plus a log start offset.
 *
 * fast-check drives random sequences of append, read, reopen (clean and unclean), roll, truncate,
 * retention and clock ticks, with tiny segment and index settings so that every path (index
 * lookups, rolls on size, time and full indexes, multi-segment reads) runs within a few commands.
 */

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { crc32c } from '../../../common/crc32c.ts';
import { MiniKafkaError } from '../../../common/errors.ts';
import { decodeRecordBatch, encodeRecordBatch, iterateRecordBatches } from '../../../common/record-batch.ts';
import { ManualClock } from '../../../broker/storage/clock.ts';
import type { LogConfig } from '../../../broker/storage/log-config.ts';
import { resolveLogConfig } from '../../../broker/storage/log-config.ts';
import { PartitionLog } from '../../../broker/storage/partition-log.ts';
import { makeTempDir } from '../../helpers/temp-dir.ts';

interface ModelBatch {
  readonly baseOffset: number;
  readonly lastOffset: number;
  /** The bytes as stored: base offset and leader epoch already rewritten. */
  readonly bytes: Buffer;
}

interface Model {
  batches: ModelBatch[];
  logStartOffset: number;
  nextOffset: number;
}

interface Real {
  log: PartitionLog;
  readonly dir: string;
  readonly clock: ManualClock;
  config: LogConfig;
}

type Command = fc.AsyncCommand<Model, Real>;

class AppendCommand implements Command {
  constructor(readonly values: string[]) {}
  check = () => true;
  async run(model: Model, real: Real): Promise<void> {
    const batch = encodeRecordBatch({ records: this.values.map((value, i) => ({ key: i % 2 === 0 ? null : `k${i}`, value, timestamp: real.clock.nowMs() })) });
    const result = real.log.append(batch);
    expect(result.baseOffset).toBe(model.nextOffset);
    expect(result.lastOffset).toBe(model.nextOffset + this.values.length - 1);
    model.batches.push({ baseOffset: result.baseOffset, lastOffset: result.lastOffset, bytes: Buffer.from(batch) });
    model.nextOffset = result.lastOffset + 1;
    expect(real.log.nextOffset).toBe(model.nextOffset);
  }
  toString = () => `append(${this.values.length} records)`;
}

class ReadCommand implements Command {
  constructor(readonly where: number, readonly maxBytes: number) {}
  check = () => true;
  async run(model: Model, real: Real): Promise<void> {
    const span = model.nextOffset - model.logStartOffset;
    const offset = model.logStartOffset + Math.floor(this.where * (span + 1));
    const result = real.log.read(offset, this.maxBytes);
    const expected = model.batches.filter((b) => b.lastOffset >= offset);
    if (expected.length === 0) {
      expect(result).toBeNull();
      return;
    }
    expect(result).not.toBeNull();
    const got = [...iterateRecordBatches(result!.bytes)];
    // Whole batches, in order, the first one holding the offset, the same bytes as appended.
    expect(got.reduce((sum, b) => sum + b.header.sizeBytes, 0)).toBe(result!.bytes.length);
    expect(got.length).toBeGreaterThan(0);
    expect(got.length === 1 || result!.bytes.length <= this.maxBytes).toBe(true);
    got.forEach((batch, i) => {
      expect(batch.header.baseOffset).toBe(expected[i].baseOffset);
      expect(result!.bytes.subarray(batch.position, batch.position + batch.header.sizeBytes).equals(expected[i].bytes)).toBe(true);
    });
  }
  toString = () => `read(${this.where.toFixed(2)}, ${this.maxBytes})`;
}

class ReadOutOfRangeCommand implements Command {
  constructor(readonly above: boolean) {}
  check = (model: Readonly<Model>) => this.above || model.logStartOffset > 0;
  async run(model: Model, real: Real): Promise<void> {
    const offset = this.above ? model.nextOffset + 1 : model.logStartOffset - 1;
    expect(() => real.log.read(offset, 1000)).toThrowError(expect.objectContaining({ code: 'OFFSET_OUT_OF_RANGE' }) as unknown as Error);
  }
  toString = () => `readOutOfRange(${this.above ? 'above' : 'below'})`;
}

class ReopenCommand implements Command {
  constructor(readonly isClean: boolean) {}
  check = () => true;
  async run(model: Model, real: Real): Promise<void> {
    const { logStartOffset, recoveryPoint } = real.log;
    if (this.isClean) await real.log.close();
    // Unclean: the old object is dropped with its files open, as a killed process would leave
    // them; the page cache still holds every write, so nothing may be lost.
    real.log = PartitionLog.open({ dir: real.dir, config: real.config, clock: real.clock, hadCleanShutdown: this.isClean, recoveryPoint: this.isClean ? undefined : recoveryPoint, logStartOffset });
    expect(real.log.nextOffset).toBe(model.nextOffset);
    expect(real.log.logStartOffset).toBe(model.logStartOffset);
  }
  toString = () => `reopen(${this.isClean ? 'clean' : 'unclean'})`;
}

class RollCommand implements Command {
  check = () => true;
  async run(model: Model, real: Real): Promise<void> {
    const before = real.log.segments.length;
    real.log.roll();
    const isEmptyActive = model.batches.length === 0 || real.log.segments.at(-1)!.sizeBytes === 0;
    expect(real.log.segments.length).toBe(isEmptyActive ? Math.max(before, real.log.segments.length) : real.log.segments.length);
    expect(real.log.nextOffset).toBe(model.nextOffset);
  }
  toString = () => 'roll()';
}

class TruncateCommand implements Command {
  constructor(readonly where: number) {}
  check = (model: Readonly<Model>) => model.nextOffset > model.logStartOffset;
  async run(model: Model, real: Real): Promise<void> {
    const offset = model.logStartOffset + Math.floor(this.where * (model.nextOffset - model.logStartOffset));
    const newEnd = real.log.truncateTo(offset);
    if (offset <= model.logStartOffset) {
      model.batches = [];
      model.logStartOffset = offset;
      model.nextOffset = offset;
    } else {
      const holding = model.batches.find((b) => b.lastOffset >= offset);
      model.nextOffset = holding === undefined ? model.nextOffset : Math.min(offset, holding.baseOffset);
      model.batches = model.batches.filter((b) => b.lastOffset < model.nextOffset);
    }
    expect(newEnd).toBe(model.nextOffset);
    expect(real.log.nextOffset).toBe(model.nextOffset);
    expect(real.log.recoveryPoint).toBeLessThanOrEqual(model.nextOffset);
  }
  toString = () => `truncateTo(${this.where.toFixed(2)})`;
}

class RetentionCommand implements Command {
  constructor(readonly retentionMs: number, readonly retentionBytes: number) {}
  check = () => true;
  async run(model: Model, real: Real): Promise<void> {
    real.config = resolveLogConfig({ ...real.config, retentionMs: this.retentionMs, retentionBytes: this.retentionBytes });
    real.log.updateConfig(real.config);
    const before = real.log.segments;
    const nowMs = real.clock.nowMs();
    const deleted = real.log.deleteOldSegments();
    const after = real.log.segments;
    // What went is a prefix of the closed segments, each breaking a rule when it went.
    expect(after.length).toBe(before.length - deleted);
    expect(after.length).toBeGreaterThanOrEqual(1);
    let remainingBytes = before.reduce((sum, s) => sum + s.sizeBytes, 0);
    for (const segment of before.slice(0, deleted)) {
      const isTooOld = this.retentionMs >= 0 && nowMs - segment.maxTimestamp > this.retentionMs;
      const isOverSize = this.retentionBytes >= 0 && remainingBytes - segment.sizeBytes >= this.retentionBytes;
      expect(isTooOld || isOverSize || segment.nextOffset <= model.logStartOffset).toBe(true);
      remainingBytes -= segment.sizeBytes;
    }
    // ...and the first one kept breaks none (unless it is the active segment).
    if (after.length > 1) {
      const kept = after[0];
      const isTooOld = this.retentionMs >= 0 && nowMs - kept.maxTimestamp > this.retentionMs;
      const isOverSize = this.retentionBytes >= 0 && remainingBytes - kept.sizeBytes >= this.retentionBytes;
      expect(isTooOld || isOverSize).toBe(false);
    }
    expect(after.at(-1)!.baseOffset).toBe(before.at(-1)!.baseOffset);
    model.logStartOffset = Math.max(model.logStartOffset, after[0].baseOffset);
    model.batches = model.batches.filter((b) => b.baseOffset >= model.logStartOffset);
    expect(real.log.logStartOffset).toBe(model.logStartOffset);
    expect(real.log.nextOffset).toBe(model.nextOffset);
  }
  toString = () => `retention(ms=${this.retentionMs}, bytes=${this.retentionBytes})`;
}

class TickCommand implements Command {
  constructor(readonly ms: number) {}
  check = () => true;
  async run(_model: Model, real: Real): Promise<void> {
    real.clock.advance(this.ms);
  }
  toString = () => `tick(${this.ms})`;
}

class FindByTimestampCommand implements Command {
  constructor(readonly back: number) {}
  check = () => true;
  async run(model: Model, real: Real): Promise<void> {
    const target = real.clock.nowMs() - this.back;
    const found = real.log.findOffsetByTimestamp(target);
    const expected = model.batches.flatMap((b) => decodeRecordBatch(b.bytes).records).find((r) => r.timestamp >= target && r.offset >= model.logStartOffset);
    if (expected === undefined) expect(found).toBeNull();
    else expect(found).toEqual({ offset: expected.offset, timestamp: expected.timestamp });
  }
  toString = () => `findOffsetByTimestamp(now-${this.back})`;
}

const commands = [
  fc.array(fc.string({ maxLength: 60 }), { minLength: 1, maxLength: 8 }).map((values) => new AppendCommand(values)),
  fc.array(fc.string({ maxLength: 60 }), { minLength: 1, maxLength: 8 }).map((values) => new AppendCommand(values)),
  fc.tuple(fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true }), fc.integer({ min: 1, max: 700 })).map(([w, b]) => new ReadCommand(w, b)),
  fc.boolean().map((above) => new ReadOutOfRangeCommand(above)),
  fc.boolean().map((clean) => new ReopenCommand(clean)),
  fc.constant(new RollCommand()),
  fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true }).map((w) => new TruncateCommand(w)),
  fc.tuple(fc.constantFrom(-1, 50, 200, 1000), fc.constantFrom(-1, 0, 300, 1500)).map(([ms, bytes]) => new RetentionCommand(ms, bytes)),
  fc.integer({ min: 1, max: 120 }).map((ms) => new TickCommand(ms)),
  fc.integer({ min: -5, max: 400 }).map((back) => new FindByTimestampCommand(back)),
];

const settings = fc.record({
  segmentBytes: fc.integer({ min: 200, max: 1500 }),
  indexIntervalBytes: fc.integer({ min: 0, max: 300 }),
  segmentIndexBytes: fc.constantFrom(24, 48, 96, 4096),
  segmentMs: fc.constantFrom(100, 300, 100_000),
});

describe('PartitionLog', () => {
  it('behaves like an array of batches under append, read, reopen, roll, truncate and retention', async () => {
    await fc.assert(
      fc.asyncProperty(settings, fc.commands(commands, { maxCommands: 80, size: 'max' }), async (overrides, cmds) => {
        const dir = makeTempDir();
        const clock = new ManualClock();
        const config = resolveLogConfig({ ...overrides, maxMessageBytes: 10_000, retentionMs: -1 });
        const real: Real = { log: PartitionLog.open({ dir: `${dir}/t-0`, config, clock }), dir: `${dir}/t-0`, clock, config };
        const model: Model = { batches: [], logStartOffset: 0, nextOffset: 0 };
        try {
          await fc.asyncModelRun(() => ({ model, real }), cmds);
          // Every batch the model holds can be read back, from a reopened log too.
          await real.log.close();
          const reopened = PartitionLog.open({ dir: real.dir, config: real.config, clock, hadCleanShutdown: true, logStartOffset: model.logStartOffset });
          for (const batch of model.batches) {
            const read = reopened.read(batch.baseOffset, 1);
            expect(read!.bytes.equals(batch.bytes)).toBe(true);
          }
          await reopened.close();
        } finally {
          await real.log.close().catch(() => undefined);
        }
      }),
      { numRuns: 50 },
    );
  });

  it('append() rejects a batch above max.message.bytes with MESSAGE_TOO_LARGE and keeps serving', async () => {
    const dir = makeTempDir();
    const log = PartitionLog.open({ dir, config: resolveLogConfig({ maxMessageBytes: 200 }) });
    const big = encodeRecordBatch({ records: [{ value: 'x'.repeat(300) }] });
    expect(() => log.append(big)).toThrowError(MiniKafkaError);
    expect(() => log.append(big)).toThrowError(/max\.message\.bytes/);
    expect(log.append(encodeRecordBatch({ records: [{ value: 'ok' }] })).baseOffset).toBe(0);
    await log.close();
  });

  it('append() rejects two batches in one buffer and a batch with a bad CRC, writing nothing', async () => {
    const dir = makeTempDir();
    const log = PartitionLog.open({ dir, config: resolveLogConfig() });
    const one = encodeRecordBatch({ records: [{ value: 'a' }] });
    expect(() => log.append(Buffer.concat([one, one]))).toThrowError(expect.objectContaining({ code: 'CORRUPT_MESSAGE' }) as unknown as Error);
    const bad = Buffer.from(one);
    bad[bad.length - 1] ^= 0xff;
    expect(() => log.append(bad)).toThrowError(expect.objectContaining({ code: 'CORRUPT_MESSAGE' }) as unknown as Error);
    expect(log.nextOffset).toBe(0);
    expect(log.sizeBytes).toBe(0);
    await log.close();
  });

  it('append() with flush.messages=1 returns a flushed promise and moves the recovery point past the batch', async () => {
    const dir = makeTempDir();
    const log = PartitionLog.open({ dir, config: resolveLogConfig({ flushMessages: 1 }) });
    const results = Array.from({ length: 20 }, () => log.append(encodeRecordBatch({ records: [{ value: 'v' }] })));
    expect(results.every((r) => r.flushed !== null)).toBe(true);
    await Promise.all(results.map((r) => r.flushed));
    expect(log.recoveryPoint).toBe(20);
    await log.close();
  });

  it('append() with the default flush policy never waits for an fsync', async () => {
    const dir = makeTempDir();
    const log = PartitionLog.open({ dir, config: resolveLogConfig() });
    const result = log.append(encodeRecordBatch({ records: [{ value: 'v' }] }));
    expect(result.flushed).toBeNull();
    expect(log.recoveryPoint).toBe(0);
    await log.close();
  });

  it('onAppend() listeners hear the new log end offset after each append', async () => {
    const dir = makeTempDir();
    const log = PartitionLog.open({ dir, config: resolveLogConfig() });
    const heard: number[] = [];
    const stop = log.onAppend((next) => heard.push(next));
    log.append(encodeRecordBatch({ records: [{ value: 'a' }, { value: 'b' }] }));
    stop();
    log.append(encodeRecordBatch({ records: [{ value: 'c' }] }));
    expect(heard).toEqual([2]);
    await log.close();
  });
});

describe('PartitionLog.append() input rules', () => {
  it('rejects an empty batch with INVALID_RECORD, so no two batches share an offset', async () => {
    const dir = makeTempDir();
    const log = PartitionLog.open({ dir, config: resolveLogConfig({ indexIntervalBytes: 0 }) });
    log.append(encodeRecordBatch({ records: [{ value: 'a' }] }));
    expect(() => log.append(encodeRecordBatch({ baseTimestamp: 5, records: [] }))).toThrowError(expect.objectContaining({ code: 'INVALID_RECORD' }) as unknown as Error);
    expect(log.append(encodeRecordBatch({ records: [{ value: 'b' }] })).baseOffset).toBe(1);
    await log.close();
  });

  it('rejects a batch with attribute bits only the broker may set (bit 6: delete horizon)', async () => {
    const dir = makeTempDir();
    const log = PartitionLog.open({ dir, config: resolveLogConfig() });
    const batch = encodeRecordBatch({ records: [{ key: 'k', value: null }] });
    batch.writeInt16BE(batch.readInt16BE(21) | 0x40, 21);
    batch.writeUInt32BE(crc32c(batch, 21), 17);
    expect(() => log.append(batch)).toThrowError(expect.objectContaining({ code: 'INVALID_RECORD' }) as unknown as Error);
    expect(log.nextOffset).toBe(0);
    await log.close();
  });
});
