/**
 * A crash in the middle of cleaning loses nothing: for every I/O step of a cleaning pass, stop
 * the pass right there, then reopen the directory with a fresh log (plain node:fs) and check that
 * every swapped range holds exactly its old content or exactly its new content, that nothing else
 * changed, and that no `.cleaned`, `.swap` or `.deleted` file is left.
 *
 * Two kinds of stop, each at every step:
 * - process crash (kill -9): the files stay exactly as the steps before the stop left them;
 * - power loss: the files go back to what fsyncs made durable (test/helpers/power-loss-io.ts).
 *
 * The pass under test is a second one, over a log that an earlier pass cleaned and that grew
 * since, long enough after the first that its tombstones' delete horizons have passed: so it
 * merges segments, drops superseded records and expired tombstones, rebuilds gzip batches and
 * keeps an idempotent producer's emptied batch.
 */

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CompressionName } from '../../../common/record-batch.ts';
import { decodeRecordBatch, encodeRecordBatch, iterateRecordBatches } from '../../../common/record-batch.ts';
import { ManualClock } from '../../../broker/storage/clock.ts';
import type { FileIo } from '../../../broker/storage/file-io.ts';
import { nodeFileIo } from '../../../broker/storage/file-io.ts';
import { CleanupPolicyBits, resolveLogConfig } from '../../../broker/storage/log-config.ts';
import type { CleaningResult } from '../../../broker/storage/log-cleaner.ts';
import { LogCleaner } from '../../../broker/storage/log-cleaner.ts';
import { PartitionLog } from '../../../broker/storage/partition-log.ts';
import { PowerLossIo } from '../../helpers/power-loss-io.ts';
import { makeTempDir } from '../../helpers/temp-dir.ts';

const START_MS = 1_700_000_000_000;
const DELETE_RETENTION_MS = 60_000;
const config = resolveLogConfig({ segmentBytes: 400, indexIntervalBytes: 64, cleanupPolicy: CleanupPolicyBits.compact, deleteRetentionMs: DELETE_RETENTION_MS, retentionMs: -1 });

class InjectedCrash extends Error {}

/**
 * A FileIo that, once armed with `crashAfter(steps)`, performs that many more steps (calls that
 * change a file, a directory or durability: open, write, truncate, fsync, close, fsyncDir,
 * rename, unlink, mkdir, removeDir) and then dies: that call and every later one throw, so no
 * timer of the abandoned objects can touch the files afterwards.
 */
class CrashingIo implements FileIo {
  readonly #inner: FileIo;
  #stepsLeft = Number.POSITIVE_INFINITY;
  #isDead = false;
  constructor(inner: FileIo) {
    this.#inner = inner;
  }
  get hasCrashed(): boolean {
    return this.#isDead;
  }
  crashAfter(steps: number): void {
    this.#stepsLeft = steps;
  }
  #step(): void {
    if (!this.#isDead && this.#stepsLeft > 0) {
      this.#stepsLeft -= 1;
      return;
    }
    this.#isDead = true;
    throw new InjectedCrash('crashed here');
  }
  #alive(): void {
    if (this.#isDead) throw new InjectedCrash('already crashed');
  }
  open(file: string, flags: string): number {
    this.#step();
    return this.#inner.open(file, flags);
  }
  write(fd: number, buffer: Uint8Array, offset: number, length: number, position: number): void {
    this.#step();
    this.#inner.write(fd, buffer, offset, length, position);
  }
  read(fd: number, buffer: Uint8Array, offset: number, length: number, position: number): number {
    this.#alive();
    return this.#inner.read(fd, buffer, offset, length, position);
  }
  sizeOf(fd: number): number {
    this.#alive();
    return this.#inner.sizeOf(fd);
  }
  truncate(fd: number, length: number): void {
    this.#step();
    this.#inner.truncate(fd, length);
  }
  async fsync(fd: number): Promise<void> {
    this.#step();
    await this.#inner.fsync(fd);
  }
  close(fd: number): void {
    this.#step();
    this.#inner.close(fd);
  }
  async fsyncDir(dir: string): Promise<void> {
    this.#step();
    await this.#inner.fsyncDir(dir);
  }
  rename(from: string, to: string): void {
    this.#step();
    this.#inner.rename(from, to);
  }
  unlink(file: string): void {
    this.#step();
    this.#inner.unlink(file);
  }
  mkdir(dir: string): void {
    this.#step();
    this.#inner.mkdir(dir);
  }
  readdir(dir: string): string[] {
    this.#alive();
    return this.#inner.readdir(dir);
  }
  exists(file: string): boolean {
    this.#alive();
    return this.#inner.exists(file);
  }
  removeDir(dir: string): void {
    this.#step();
    this.#inner.removeDir(dir);
  }
}

interface ServedRecord {
  readonly offset: number;
  readonly key: string;
  readonly value: string | null;
  readonly timestamp: number;
}

function readAll(log: PartitionLog): ServedRecord[] {
  const served: ServedRecord[] = [];
  let offset = log.logStartOffset;
  for (let reads = 0; offset < log.nextOffset && reads <= log.nextOffset; reads++) {
    const result = log.read(offset, 4096);
    if (result === null) break;
    for (const { position } of iterateRecordBatches(result.bytes)) {
      for (const record of decodeRecordBatch(result.bytes, position).records) {
        served.push({ offset: record.offset, key: record.key!.toString(), value: record.value?.toString() ?? null, timestamp: record.timestamp });
      }
    }
    offset = result.lastOffset + 1;
  }
  return served;
}

let sequence = 0;

function append(log: PartitionLog, clock: ManualClock, records: Array<[string, string | null]>, compression: CompressionName = 'none', isIdempotent = false): void {
  const producer = isIdempotent ? { producerId: 42, producerEpoch: 0, baseSequence: sequence } : {};
  if (isIdempotent) sequence += records.length;
  log.append(encodeRecordBatch({ records: records.map(([key, value]) => ({ key, value, timestamp: clock.nowMs() })), compression, ...producer }));
}

/** The log before the pass under test, written once: `template/orders-0`, shut down cleanly. */
async function writeTemplate(root: string): Promise<void> {
  const dir = path.join(root, 'orders-0');
  const clock = new ManualClock(START_MS);
  const log = PartitionLog.open({ dir, config, clock });
  const cleaner = new LogCleaner({ logs: () => [log], clock });
  for (let i = 0; i < 18; i++) append(log, clock, [[`k${i % 6}`, i % 6 === 5 && i > 6 ? null : `first-${i}`]], i % 4 === 3 ? 'gzip' : 'none', i % 7 === 0);
  log.roll();
  await log.flush();
  await cleaner.cleanNow(log);
  clock.advance(DELETE_RETENTION_MS);
  for (let i = 0; i < 12; i++) append(log, clock, [[`k${6 + ((i * 5) % 8)}`, i % 6 === 5 ? null : `second-${i}`], [`k${i % 3}`, `second-${i}b`]], i % 3 === 0 ? 'gzip' : 'none');
  log.roll();
  append(log, clock, [['k9', 'active']]);
  await log.flush();
  await cleaner.close();
  await log.close();
}

/** Copies the template into a fresh root and returns the partition directory there. */
function copyTemplate(template: string): string {
  const root = makeTempDir('minikafka-cleaner-crash-');
  fs.cpSync(template, root, { recursive: true });
  return path.join(root, 'orders-0');
}

function openLog(dir: string, io: FileIo, hadCleanShutdown: boolean, recoveryPoint?: number): PartitionLog {
  return PartitionLog.open({ dir, config, io, clock: new ManualClock(START_MS + DELETE_RETENTION_MS), hadCleanShutdown, recoveryPoint });
}

/** The pass under test, at the time the template was written. */
function cleanerFor(log: PartitionLog, io: FileIo): LogCleaner {
  return new LogCleaner({ logs: () => [log], io, clock: new ManualClock(START_MS + DELETE_RETENTION_MS) });
}

interface Expected {
  readonly before: ServedRecord[];
  readonly after: ServedRecord[];
  /** The offset ranges each new segment replaced: each must be all old or all new. */
  readonly ranges: Array<[number, number]>;
  readonly result: CleaningResult;
  readonly recoveryPoint: number;
}

async function uninterruptedPass(template: string): Promise<Expected> {
  const dir = copyTemplate(template);
  const log = openLog(dir, nodeFileIo, true);
  const before = readAll(log);
  const recoveryPoint = log.recoveryPoint;
  const result = await cleanerFor(log, nodeFileIo).cleanNow(log);
  const after = readAll(log);
  const starts = log.segments.map((segment) => segment.baseOffset).filter((base) => base < result.rewrittenUpToOffset);
  const ranges = starts.map((start, i): [number, number] => [start, starts[i + 1] ?? result.rewrittenUpToOffset]);
  await log.close();
  return { before, after, ranges, result, recoveryPoint };
}

function inRange(records: readonly ServedRecord[], [from, to]: [number, number]): ServedRecord[] {
  return records.filter((record) => record.offset >= from && record.offset < to);
}

/** Reopens after the stop and checks the content, then cleans again: the result must be the uninterrupted one. */
async function expectOldOrNewPerRange(dir: string, expected: Expected, step: number): Promise<'old' | 'new' | 'mixed'> {
  const log = openLog(dir, nodeFileIo, false, expected.recoveryPoint);
  const served = readAll(log);
  const leftovers = fs.readdirSync(dir).filter((name) => /\.(cleaned|swap|deleted)$/.test(name));
  expect(leftovers, `step ${step}: leftovers`).toEqual([]);
  const kinds = new Set<string>();
  for (const range of expected.ranges) {
    const got = JSON.stringify(inRange(served, range));
    const old = JSON.stringify(inRange(expected.before, range));
    const cleaned = JSON.stringify(inRange(expected.after, range));
    expect(got === old || got === cleaned, `step ${step}: offsets [${range[0]}, ${range[1]}) hold neither the old nor the new records`).toBe(true);
    // A range the pass did not change tells nothing about how far the pass got.
    if (old !== cleaned) kinds.add(got === cleaned ? 'new' : 'old');
  }
  const end = expected.ranges.at(-1)![1];
  expect(served.filter((record) => record.offset >= end), `step ${step}: beyond the cleaned range`).toEqual(expected.before.filter((record) => record.offset >= end));
  expect(log.nextOffset).toBe(expected.before.at(-1)!.offset + 1);
  // Whatever the stop left, cleaning again converges on what the uninterrupted pass made.
  await cleanerFor(log, nodeFileIo).cleanNow(log);
  expect(readAll(log), `step ${step}: cleaning again`).toEqual(expected.after);
  await log.close();
  return kinds.size === 2 ? 'mixed' : kinds.has('new') ? 'new' : 'old';
}

describe('LogCleaner stopped at every step of a pass', () => {
  let template: string;
  let expected: Expected;

  beforeAll(async () => {
    // Not makeTempDir: that one is removed after each test, and the template serves them all.
    template = fs.mkdtempSync(path.join(os.tmpdir(), 'minikafka-cleaner-template-'));
    await writeTemplate(template);
    expected = await uninterruptedPass(template);
    // The pass must be worth interrupting: several new segments, records and tombstones dropped.
    expect(expected.ranges.length).toBeGreaterThan(1);
    expect(expected.result.segmentsReplaced).toBeGreaterThan(expected.result.segmentsWritten);
    expect(expected.result.tombstonesRemoved).toBeGreaterThan(0);
    expect(expected.after.length).toBeLessThan(expected.before.length);
  });
  afterAll(() => fs.rmSync(template, { recursive: true, force: true }));

  for (const kind of ['process crash', 'power loss'] as const) {
    it(`leaves each replaced range all old or all new after a ${kind} at any step, and loses nothing`, async () => {
      const outcomes = new Set<string>();
      let step = 0;
      for (; step < 10_000; step++) {
        const dir = copyTemplate(template);
        const power = new PowerLossIo(path.dirname(dir));
        const io = new CrashingIo(power);
        const log = openLog(dir, io, true);
        // Only the pass counts: opening the log is not one of its steps.
        io.crashAfter(step);
        // The engine may wrap the crash (KAFKA_STORAGE_ERROR with the crash as its cause).
        const outcome = await cleanerFor(log, io).cleanNow(log).then(() => 'done', (error: unknown) => {
          if (!io.hasCrashed) throw error;
          return 'crashed';
        });
        if (outcome === 'done') {
          expect(io.hasCrashed).toBe(false);
          power.closeAllOpenFds();
          break;
        }
        if (kind === 'power loss') power.simulatePowerLoss();
        else power.closeAllOpenFds();
        outcomes.add(await expectOldOrNewPerRange(dir, expected, step));
      }
      expect(step, 'the pass ended within the step budget').toBeLessThan(10_000);
      // Every stage happened: stops before any swap, between swaps and after the last one.
      expect([...outcomes].sort()).toEqual(['mixed', 'new', 'old']);
    });
  }
});
