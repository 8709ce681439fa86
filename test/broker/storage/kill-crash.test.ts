/**
 * kill -9 of a producing broker, round after round, on one data directory.
 *
 * A child process (test/helpers/append-child.ts) appends random batches with flush.messages=1
 * and prints an `ack` line for each batch once it is fsynced. The parent kills it with SIGKILL at
 * a random moment, then starts the next child on the same directory: that one must take over the
 * lock of a dead owner and recover the log. At the end the parent opens the directory itself and
 * checks that every acknowledged batch is there byte for byte, and that no bad batch is served.
 *
 * A SIGKILL is not a power loss: the page cache survives, so every byte written before the kill
 * is still in the files. What is tested is recovery: the log is reopened at exactly its last
 * whole batch, offsets continue from there, and nothing acknowledged is ever given away again.
 * The second test also damages the active segment past the last acknowledged batch (a cut inside
 * a batch, random bytes, a copy with a flipped byte, a torn copy) before each restart, and
 * checks that recovery cuts exactly the damaged tail.
 */

import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { decodeRecordBatch, encodeRecordBatch, isCrcValid, iterateRecordBatches, readRecordBatchHeader, setBaseOffset } from '../../../common/record-batch.ts';
import { LOG_SUFFIX, parseSegmentFileName, partitionDirName } from '../../../broker/storage/file-names.ts';
import { LogManager } from '../../../broker/storage/log-manager.ts';
import { StorageCounters } from '../../../broker/storage/storage-observer.ts';
import { APPEND_CHILD_TOPIC, appendChildLogConfig } from '../../helpers/append-child.ts';

const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const CHILD_FILE = fileURLToPath(new URL('../../helpers/append-child.ts', import.meta.url));
/** Eight rounds: each kind of garbage damages the tail twice in the second test. */
const ROUNDS = 8;
/** A child that has not printed enough acks by then is stuck: the round fails instead of hanging. */
const ROUND_LIMIT_MS = 20_000;

const temporaryDirs: string[] = [];

afterEach(() => {
  for (const dir of temporaryDirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

interface Ack {
  readonly baseOffset: number;
  readonly lastOffset: number;
  readonly sha256: string;
}

interface ChildRun {
  readonly readyNextOffset: number;
  readonly acks: Ack[];
}

/** Runs one child until it has printed `killAfterAcks` acks, kills it `killDelayMs` later, and returns what it printed. */
function runChildUntilKilled(dataDir: string, seed: number, killAfterAcks: number, killDelayMs: number): Promise<ChildRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD_FILE, dataDir, String(seed)], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let readyNextOffset = -1;
    const acks: Ack[] = [];
    const problems: string[] = [];
    let stdoutTail = '';
    let stderr = '';
    let isKillScheduled = false;
    const limit = setTimeout(() => {
      problems.push(`no ${killAfterAcks} acks within ${ROUND_LIMIT_MS} ms (got ${acks.length})`);
      child.kill('SIGKILL');
    }, ROUND_LIMIT_MS);
    const onLine = (line: string): void => {
      const [word, ...fields] = line.split(' ');
      if (word === 'ready') readyNextOffset = Number(fields[0]);
      else if (word === 'ack') acks.push({ baseOffset: Number(fields[0]), lastOffset: Number(fields[1]), sha256: fields[2] });
      else problems.push(`unexpected line ${JSON.stringify(line)}`);
      if (acks.length >= killAfterAcks && !isKillScheduled) {
        isKillScheduled = true;
        setTimeout(() => child.kill('SIGKILL'), killDelayMs);
      }
    };
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      const lines = (stdoutTail + chunk).split('\n');
      // A line without its newline yet is kept for the next chunk; one cut by the kill is dropped.
      stdoutTail = lines.pop()!;
      for (const line of lines) onLine(line);
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(limit);
      if (signal !== 'SIGKILL') problems.push(`the child ended by itself (code ${code}, signal ${signal})`);
      if (readyNextOffset < 0) problems.push('the child never printed ready');
      if (problems.length > 0) reject(new Error(`append child (seed ${seed}): ${problems.join('; ')}\nstderr:\n${stderr}`));
      else resolve({ readyNextOffset, acks });
    });
  });
}

interface BatchInFile {
  readonly position: number;
  readonly end: number;
  readonly baseOffset: number;
  readonly lastOffset: number;
}

interface ActiveSegment {
  readonly path: string;
  readonly baseOffset: number;
  readonly bytes: Buffer;
  /** The longest prefix of whole batches with a good CRC: what recovery must keep. */
  readonly batches: BatchInFile[];
}

/** The newest segment of the partition, walked independently of the engine's scanner. */
function readActiveSegment(partitionDir: string): ActiveSegment {
  const baseOffsets = fs.readdirSync(partitionDir)
    .map((name) => parseSegmentFileName(name))
    .filter((parsed) => parsed !== null && parsed.suffix === LOG_SUFFIX)
    .map((parsed) => parsed!.baseOffset)
    .sort((a, b) => a - b);
  expect(baseOffsets.length).toBeGreaterThan(0);
  const baseOffset = baseOffsets.at(-1)!;
  const file = path.join(partitionDir, `${String(baseOffset).padStart(20, '0')}${LOG_SUFFIX}`);
  const bytes = fs.readFileSync(file);
  const batches: BatchInFile[] = [];
  let position = 0;
  // Every batch is at least 61 bytes, so the file size bounds the walk.
  while (bytes.length - position >= 61) {
    const sizeBytes = 12 + bytes.readInt32BE(position + 8);
    if (sizeBytes < 61 || position + sizeBytes > bytes.length || !isCrcValid(bytes.subarray(position, position + sizeBytes))) break;
    const header = readRecordBatchHeader(bytes, position);
    batches.push({ position, end: position + sizeBytes, baseOffset: header.baseOffset, lastOffset: header.lastOffset });
    position += sizeBytes;
  }
  return { path: file, baseOffset, bytes, batches };
}

function nextOffsetAfter(segment: ActiveSegment, kept: BatchInFile[]): number {
  return kept.length === 0 ? segment.baseOffset : kept.at(-1)!.lastOffset + 1;
}

const GARBAGE_KINDS = ['none', 'random', 'flipped-copy', 'torn-copy'] as const;
type GarbageKind = (typeof GARBAGE_KINDS)[number];

interface Damage {
  /** Where to cut, as a fraction of the bytes after the last acknowledged batch. */
  readonly cutFraction: number;
  readonly randomBytes: Uint8Array;
  /** Picks the flipped byte and its new value, or the length of the torn copy. */
  readonly choice: number;
}

/**
 * Cuts the active segment somewhere past the last acknowledged batch and appends garbage that is
 * not a good next batch. Returns the size and log end offset recovery must arrive at.
 */
function damageActiveSegment(segment: ActiveSegment, lastAck: Ack, damage: Damage, kind: GarbageKind): { sizeBytes: number; nextOffset: number } {
  const ackedInSegment = segment.batches.find((batch) => batch.lastOffset === lastAck.lastOffset);
  if (lastAck.lastOffset >= segment.baseOffset) expect(ackedInSegment, `acknowledged batch ending at ${lastAck.lastOffset} in ${segment.path}`).toBeDefined();
  const ackedEnd = ackedInSegment?.end ?? 0;
  const cut = ackedEnd + Math.floor(damage.cutFraction * (segment.bytes.length - ackedEnd));
  const kept = segment.batches.filter((batch) => batch.end <= cut);
  const sizeBytes = kept.at(-1)?.end ?? 0;
  const nextOffset = nextOffsetAfter(segment, kept);
  // A copy of a real batch renumbered to be the next one: only its damage can make recovery refuse it.
  const template = segment.batches.length > 0 ? Buffer.from(segment.bytes.subarray(segment.batches[0].position, segment.batches[0].end)) : encodeRecordBatch({ records: [{ value: 'template' }] });
  setBaseOffset(template, nextOffset, 0);
  let garbage: Buffer;
  if (kind === 'none') garbage = Buffer.alloc(0);
  else if (kind === 'random') garbage = Buffer.from(damage.randomBytes);
  else if (kind === 'torn-copy') garbage = template.subarray(0, 1 + (damage.choice % (template.length - 1)));
  else {
    // Bytes 16 on are the magic byte, the CRC and what it covers; a flip below 16 (base offset,
    // length, leader epoch) is not a corruption the format can detect.
    garbage = template;
    garbage[16 + (damage.choice % (garbage.length - 16))] ^= 1 + (damage.choice % 255);
  }
  fs.truncateSync(segment.path, cut);
  fs.appendFileSync(segment.path, garbage);
  return { sizeBytes, nextOffset };
}

const damageArbitrary: fc.Arbitrary<Damage> = fc.record({
  // fc.double crowds its values near 0 (it is uniform over representations): use a uniform grid.
  cutFraction: fc.integer({ min: 0, max: 1000 }).map((n) => n / 1000),
  randomBytes: fc.uint8Array({ minLength: 1, maxLength: 200 }),
  choice: fc.nat(),
});

const roundArbitrary = fc.record({
  seed: fc.nat(),
  killAfterAcks: fc.integer({ min: 1, max: 400 }),
  killDelayMs: fc.integer({ min: 0, max: 5 }),
  damage: damageArbitrary,
});
type Round = typeof roundArbitrary extends fc.Arbitrary<infer T> ? T : never;

async function killRounds(rounds: Round[], shouldDamage: boolean): Promise<void> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'minikafka-kill-crash-'));
  temporaryDirs.push(dataDir);
  const partitionDir = path.join(dataDir, partitionDirName(APPEND_CHILD_TOPIC, 0));
  const acks: Ack[] = [];
  let expectedNextOffset = 0;
  let expectedActiveSizeBytes = -1;
  let activeSizeBytesAtOpen = -1;
  for (const [roundIndex, round] of rounds.entries()) {
    const run = await runChildUntilKilled(dataDir, round.seed, round.killAfterAcks, round.killDelayMs);
    expect(run.readyNextOffset, 'log end offset the child recovered to').toBe(expectedNextOffset);
    expect(run.acks[0].baseOffset).toBe(run.readyNextOffset);
    for (const ack of run.acks) {
      // An offset acknowledged once is never handed out again, in this run or a later one.
      expect(ack.baseOffset).toBeGreaterThan(acks.at(-1)?.lastOffset ?? -1);
      acks.push(ack);
    }
    const segment = readActiveSegment(partitionDir);
    if (shouldDamage) {
      const expected = damageActiveSegment(segment, acks.at(-1)!, round.damage, GARBAGE_KINDS[roundIndex % GARBAGE_KINDS.length]);
      expectedNextOffset = expected.nextOffset;
      expectedActiveSizeBytes = expected.sizeBytes;
    } else {
      expectedNextOffset = nextOffsetAfter(segment, segment.batches);
      expectedActiveSizeBytes = segment.batches.at(-1)?.end ?? 0;
    }
    activeSizeBytesAtOpen = fs.statSync(segment.path).size;
  }

  const counters = new StorageCounters();
  const manager = await LogManager.open({ dataDir, metrics: counters });
  try {
    expect(manager.hadCleanShutdown).toBe(false);
    const log = manager.openLog(APPEND_CHILD_TOPIC, 0, appendChildLogConfig);
    expect(log.nextOffset).toBe(expectedNextOffset);
    const active = log.segments.at(-1)!;
    expect(active.sizeBytes).toBe(expectedActiveSizeBytes);
    expect(fs.statSync(readActiveSegment(partitionDir).path).size).toBe(expectedActiveSizeBytes);
    const cutBytes = activeSizeBytesAtOpen - expectedActiveSizeBytes;
    expect(counters.recoveryCuts.map((cut) => [cut.segmentBaseOffset, cut.position, cut.truncatedBytes])).toEqual(cutBytes > 0 ? [[active.baseOffset, expectedActiveSizeBytes, cutBytes]] : []);

    // Every batch served is whole, valid and in sequence; every acknowledged one is byte for byte what was acknowledged.
    const hashes = new Map<number, string>();
    let offset = log.logStartOffset;
    for (let reads = 0; offset < log.nextOffset && reads <= log.nextOffset; reads++) {
      const result = log.read(offset, 64 * 1024);
      expect(result).not.toBeNull();
      for (const { position, header } of iterateRecordBatches(result!.bytes)) {
        const bytes = result!.bytes.subarray(position, position + header.sizeBytes);
        expect(header.baseOffset, 'batches follow each other without a gap').toBe(offset);
        expect(decodeRecordBatch(bytes).records.length).toBe(header.recordCount);
        hashes.set(header.baseOffset, createHash('sha256').update(bytes).digest('hex'));
        offset = header.lastOffset + 1;
      }
    }
    expect(offset).toBe(log.nextOffset);
    for (const ack of acks) expect(hashes.get(ack.baseOffset), `acknowledged batch at offset ${ack.baseOffset}`).toBe(ack.sha256);
  } finally {
    await manager.close();
  }
}

describe('a producing broker killed with SIGKILL', () => {
  it('LogManager recovers every acknowledged batch byte for byte, round after round', async () => {
    await fc.assert(
      fc.asyncProperty(fc.noBias(fc.array(roundArbitrary, { minLength: ROUNDS, maxLength: ROUNDS })), (rounds) => killRounds(rounds, false)),
      { numRuns: 1, endOnFailure: true },
    );
  });

  it('LogManager cuts exactly a damaged tail past the last acknowledged batch and serves no bad batch', async () => {
    await fc.assert(
      fc.asyncProperty(fc.noBias(fc.array(roundArbitrary, { minLength: ROUNDS, maxLength: ROUNDS })), (rounds) => killRounds(rounds, true)),
      { numRuns: 1, endOnFailure: true },
    );
  });
});
