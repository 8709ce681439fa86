/**
 * Model-based test of the log cleaner against "last value per key": the model is the list of
 * every record appended (offset, key, value, timestamp), and the cleaner may only ever remove
 * records from it, never change or move one.
 *
 * fast-check drives random appends of keyed records and tombstones (some gzip, some from an
 * idempotent producer), rolls, flushes, clean passes (some with appends and reads running while
 * the pass yields), clock ticks and reopens (clean and unclean), with tiny segments and sometimes
 * a tiny offset map, so that merging, partial passes and delete horizons all happen within a few
 * commands. After every command:
 *
 * - every record the log serves is the one appended at that offset, offsets strictly increase;
 * - every key's latest record is there, unless it is a tombstone whose delete horizon (set by the
 *   first pass that rewrote it, delete.retention.ms later) has passed; and then no record of that
 *   key is left at all;
 * - below the cleaner checkpoint, no record survives whose key has a later record there too;
 * - after a pass at time t, every latest tombstone that pass rewrote with a horizon ≤ t is gone.
 */

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { CompressionName } from '../../../common/record-batch.ts';
import { decodeRecordBatch, encodeRecordBatch, iterateRecordBatches } from '../../../common/record-batch.ts';
import { ManualClock } from '../../../broker/storage/clock.ts';
import type { LogConfig } from '../../../broker/storage/log-config.ts';
import { CleanupPolicyBits, resolveLogConfig } from '../../../broker/storage/log-config.ts';
import type { CleaningResult } from '../../../broker/storage/log-cleaner.ts';
import { LogCleaner } from '../../../broker/storage/log-cleaner.ts';
import { PartitionLog } from '../../../broker/storage/partition-log.ts';
import { makeTempDir } from '../../helpers/temp-dir.ts';

const DELETE_RETENTION_MS = 1_000;
const KEYS = ['a', 'b', 'c', 'd', 'e', 'f'];

interface ModelRecord {
  readonly offset: number;
  readonly key: string;
  /** null: a tombstone. */
  readonly value: string | null;
  readonly timestamp: number;
}

interface Model {
  records: ModelRecord[];
  /** Tombstone offset → its delete horizon, once a pass has rewritten it. */
  horizons: Map<number, number>;
  /** The cleaner checkpoint after the last pass (it survives reopens: it is a file). */
  checkpoint: number;
  /** The time of the last pass: a tombstone may be gone only if its horizon is at or before it. */
  lastPassMs: number;
  producerSequence: number;
}

interface Real {
  log: PartitionLog;
  cleaner: LogCleaner;
  readonly dir: string;
  readonly clock: ManualClock;
  readonly config: LogConfig;
  readonly dedupeBufferBytes: number;
}

type Command = fc.AsyncCommand<Model, Real>;

interface RecordSpec {
  readonly key: number;
  readonly isTombstone: boolean;
}

function appendRecords(model: Model, real: Real, specs: readonly RecordSpec[], compression: CompressionName, isIdempotent: boolean): void {
  const timestamp = real.clock.nowMs();
  const records = specs.map((spec, i) => ({ key: KEYS[spec.key], value: spec.isTombstone ? null : `v${model.records.length + i}`, timestamp: timestamp + i }));
  const producer = isIdempotent ? { producerId: 7, producerEpoch: 0, baseSequence: model.producerSequence } : {};
  const result = real.log.append(encodeRecordBatch({ records, compression, ...producer }));
  if (isIdempotent) model.producerSequence += specs.length;
  records.forEach((record, i) => model.records.push({ offset: result.baseOffset + i, key: record.key, value: record.value, timestamp: record.timestamp }));
}

class AppendCommand implements Command {
  constructor(readonly specs: RecordSpec[], readonly compression: CompressionName, readonly isIdempotent: boolean) {}
  check = () => true;
  async run(model: Model, real: Real): Promise<void> {
    appendRecords(model, real, this.specs, this.compression, this.isIdempotent);
    checkInvariants(model, real);
  }
  toString = () => `append(${this.specs.map((s) => `${KEYS[s.key]}${s.isTombstone ? '∅' : ''}`).join(',')}, ${this.compression}${this.isIdempotent ? ', idempotent' : ''})`;
}

class RollCommand implements Command {
  check = () => true;
  async run(_model: Model, real: Real): Promise<void> {
    real.log.roll();
  }
  toString = () => 'roll()';
}

class FlushCommand implements Command {
  check = () => true;
  async run(_model: Model, real: Real): Promise<void> {
    await real.log.flush();
  }
  toString = () => 'flush()';
}

class TickCommand implements Command {
  constructor(readonly ms: number) {}
  check = () => true;
  async run(_model: Model, real: Real): Promise<void> {
    real.clock.advance(this.ms);
  }
  toString = () => `tick(${this.ms})`;
}

class CleanCommand implements Command {
  /** With `whileCleaning`, a batch is appended and the log read while the pass yields. */
  constructor(readonly whileCleaning: RecordSpec[] | null) {}
  check = () => true;
  async run(model: Model, real: Real): Promise<void> {
    const passMs = real.clock.nowMs();
    const pass = real.cleaner.cleanNow(real.log);
    if (this.whileCleaning !== null) {
      // cleanNow runs up to its first yield synchronously; these land while it is under way.
      await Promise.resolve();
      appendRecords(model, real, this.whileCleaning, 'none', false);
      readAll(real.log);
    }
    const result = await pass;
    expect(result.isComplete).toBe(true);
    applyPass(model, result, passMs);
    checkInvariants(model, real);
    // The pass drops every latest tombstone it rewrote whose horizon had come.
    for (const record of latestPerKey(model).values()) {
      const horizonMs = model.horizons.get(record.offset);
      if (record.value === null && record.offset < result.rewrittenUpToOffset && horizonMs !== undefined && horizonMs <= passMs) {
        expect(readAll(real.log).has(record.offset), `tombstone at ${record.offset}, horizon ${horizonMs}, pass at ${passMs}`).toBe(false);
      }
    }
  }
  toString = () => `clean(${this.whileCleaning === null ? '' : `appending ${this.whileCleaning.length} meanwhile`})`;
}

class ReopenCommand implements Command {
  constructor(readonly isClean: boolean) {}
  check = () => true;
  async run(model: Model, real: Real): Promise<void> {
    const { recoveryPoint, logStartOffset, nextOffset } = real.log;
    await real.cleaner.close();
    if (this.isClean) await real.log.close();
    // Unclean: the objects are dropped with their files open, as a killed process leaves them.
    real.log = PartitionLog.open({ dir: real.dir, config: real.config, clock: real.clock, hadCleanShutdown: this.isClean, recoveryPoint: this.isClean ? undefined : recoveryPoint, logStartOffset });
    real.cleaner = makeCleaner(real);
    expect(real.log.nextOffset).toBe(nextOffset);
    checkInvariants(model, real);
  }
  toString = () => `reopen(${this.isClean ? 'clean' : 'unclean'})`;
}

function makeCleaner(real: Pick<Real, 'clock' | 'dedupeBufferBytes'> & { log: PartitionLog }): LogCleaner {
  return new LogCleaner({ logs: () => [real.log], clock: real.clock, dedupeBufferBytes: real.dedupeBufferBytes });
}

function applyPass(model: Model, result: CleaningResult, passMs: number): void {
  model.checkpoint = result.mappedUpToOffset;
  model.lastPassMs = passMs;
  for (const record of model.records) {
    if (record.value === null && record.offset < result.rewrittenUpToOffset && !model.horizons.has(record.offset)) {
      model.horizons.set(record.offset, passMs + DELETE_RETENTION_MS);
    }
  }
}

function latestPerKey(model: Model): Map<string, ModelRecord> {
  const latest = new Map<string, ModelRecord>();
  for (const record of model.records) latest.set(record.key, record);
  return latest;
}

/** Every record the log serves, by offset, in the order served (checked to be increasing). */
function readAll(log: PartitionLog): Map<number, ModelRecord> {
  const served = new Map<number, ModelRecord>();
  let offset = log.logStartOffset;
  let lastOffset = -1;
  for (let reads = 0; offset < log.nextOffset; reads++) {
    expect(reads).toBeLessThanOrEqual(log.nextOffset);
    const result = log.read(offset, 4096);
    if (result === null) break;
    for (const { position, header } of iterateRecordBatches(result.bytes)) {
      for (const record of decodeRecordBatch(result.bytes, position).records) {
        expect(record.offset).toBeGreaterThan(lastOffset);
        lastOffset = record.offset;
        served.set(record.offset, { offset: record.offset, key: record.key!.toString(), value: record.value?.toString() ?? null, timestamp: record.timestamp });
      }
      expect(header.lastOffset).toBeGreaterThanOrEqual(lastOffset);
    }
    offset = result.lastOffset + 1;
  }
  return served;
}

function checkInvariants(model: Model, real: Real): void {
  const served = readAll(real.log);
  const byOffset = new Map(model.records.map((record) => [record.offset, record]));
  for (const [offset, record] of served) expect(record, `record at offset ${offset}`).toEqual(byOffset.get(offset));
  for (const latest of latestPerKey(model).values()) {
    if (served.has(latest.offset)) continue;
    const horizonMs = model.horizons.get(latest.offset);
    expect(latest.value, `the latest record of ${latest.key}, at ${latest.offset}, is gone: only an expired tombstone may go`).toBeNull();
    expect(horizonMs !== undefined && horizonMs <= model.lastPassMs, `tombstone at ${latest.offset} gone before its horizon ${horizonMs} (last pass ${model.lastPassMs})`).toBe(true);
    const survivors = [...served.values()].filter((record) => record.key === latest.key);
    expect(survivors, `key ${latest.key} was deleted by a tombstone, yet older records of it survive`).toEqual([]);
  }
  // The clean section holds at most one record per key: the latest below the checkpoint.
  const seen = new Set<string>();
  for (const record of [...served.values()].filter((r) => r.offset < model.checkpoint).reverse()) {
    expect(seen.has(record.key), `record at ${record.offset} survives below the checkpoint ${model.checkpoint} though its key has a later one there`).toBe(false);
    seen.add(record.key);
  }
  expect(real.log.nextOffset).toBe((model.records.at(-1)?.offset ?? -1) + 1);
}

/** One record in four is a tombstone. */
const recordSpec = fc.record({ key: fc.nat(KEYS.length - 1), isTombstone: fc.nat(3).map((n) => n === 0) });
const specs = fc.array(recordSpec, { minLength: 1, maxLength: 4 });

const commands = [
  fc.tuple(specs, fc.constantFrom<CompressionName>('none', 'none', 'gzip'), fc.boolean()).map(([s, c, i]) => new AppendCommand(s, c, i)),
  fc.tuple(specs, fc.constantFrom<CompressionName>('none')).map(([s, c]) => new AppendCommand(s, c, false)),
  fc.constant(new RollCommand()),
  fc.constant(new FlushCommand()),
  fc.option(specs, { nil: null }).map((s) => new CleanCommand(s)),
  fc.integer({ min: 1, max: 800 }).map((ms) => new TickCommand(ms)),
  fc.boolean().map((isClean) => new ReopenCommand(isClean)),
];

describe('LogCleaner against a last-value-per-key model', () => {
  it('keeps every key\'s latest record at its offset, removes only superseded records and expired tombstones, through reopens', async () => {
    await fc.assert(
      fc.asyncProperty(fc.commands(commands, { maxCommands: 40 }), fc.constantFrom(200, 400), fc.constantFrom(1 << 20, 300), async (cmds, segmentBytes, dedupeBufferBytes) => {
        const dir = `${makeTempDir('minikafka-cleaner-model-')}/orders-0`;
        const clock = new ManualClock();
        const config = resolveLogConfig({ segmentBytes, indexIntervalBytes: 64, cleanupPolicy: CleanupPolicyBits.compact, deleteRetentionMs: DELETE_RETENTION_MS, retentionMs: -1 });
        const log = PartitionLog.open({ dir, config, clock });
        const partial = { log, clock, dedupeBufferBytes };
        const real: Real = { log, cleaner: makeCleaner(partial), dir, clock, config, dedupeBufferBytes };
        const model: Model = { records: [], horizons: new Map(), checkpoint: 0, lastPassMs: Number.NEGATIVE_INFINITY, producerSequence: 0 };
        try {
          await fc.asyncModelRun(() => ({ model, real }), cmds);
          // Roll, then clean until the offset map has covered everything (a tiny map takes several
          // passes), then once more after every horizon: only the latest value of each key is left.
          real.log.roll();
          await real.log.flush();
          const everything = real.log.segments.at(-1)!.baseOffset;
          for (let passes = 0; model.checkpoint < everything; passes++) {
            expect(passes, 'each pass covers at least one more batch').toBeLessThan(model.records.length + 1);
            await new CleanCommand(null).run(model, real);
          }
          clock.advance(DELETE_RETENTION_MS);
          await new CleanCommand(null).run(model, real);
          const served = readAll(real.log);
          const expected = [...latestPerKey(model).values()].filter((record) => record.value !== null).sort((a, b) => a.offset - b.offset);
          expect([...served.values()]).toEqual(expected);
        } finally {
          await real.cleaner.close();
          await real.log.close();
        }
      }),
      { numRuns: 150 },
    );
  });
});
