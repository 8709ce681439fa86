/**
 * Benchmark 3: how long a broker takes to reopen 1 GiB of log after an unclean stop, with and
 * without a recent recovery-point checkpoint, and after a clean stop for reference.
 *
 * | case                     | how the writer stopped                        | recovery scans           |
 * |--------------------------|-----------------------------------------------|--------------------------|
 * | unclean, no checkpoint   | SIGKILL right after its last append           | every segment (from 0)   |
 * | unclean, recent checkpoint | SIGKILL after flush() and checkpoint()      | the segment holding the recovery point |
 * | clean shutdown           | LogManager.close()                            | nothing: indexes trusted |
 *
 * The writer is a child process (storage-recovery-child.ts) killed with SIGKILL, so no code of its
 * runs after the "crash" and its lock is left behind for the next open to take over, as in real
 * life. Each measurement opens the directory in a fresh child and times LogManager.open plus
 * openLog; an unclean measurement kills itself afterwards so the next one finds the same state.
 * A process crash leaves the page cache warm, and so does this benchmark: recovery here is bound
 * by CRC-32C and header parsing, not by reading the disk.
 */

import assert from 'node:assert';
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchContext, Benchmark, Measurement } from './benchmark.ts';
import { figureOf } from './benchmark.ts';
import { formatBytes } from './report.ts';
import type { OpenArgs, OpenTimings, WriteArgs } from './storage-recovery-child.ts';
import { createBenchDir } from './tmp-dir.ts';

const KiB = 1024;
const MiB = 1024 * KiB;
const GiB = 1024 * MiB;
const RECORD_VALUE_BYTES = KiB;
const BATCH_BYTES = 16 * KiB;
/** A child that has not answered in this long is stuck: better a failed run than a hung one. */
const CHILD_TIMEOUT_MS = 5 * 60_000;

const childPath = fileURLToPath(new URL('./storage-recovery-child.ts', import.meta.url));
const repositoryRoot = path.resolve(path.dirname(childPath), '..');

interface RecoveryPlan {
  readonly logBytes: number;
  readonly segmentBytes: number;
  readonly rounds: number;
}
const fullPlan: RecoveryPlan = { logBytes: GiB, segmentBytes: 128 * MiB, rounds: 3 };
const quickPlan: RecoveryPlan = { logBytes: 64 * MiB, segmentBytes: 8 * MiB, rounds: 2 };

export const storageRecovery: Benchmark = {
  name: 'storage-recovery',
  title: 'storage-recovery: reopening a log after SIGKILL and after a clean stop',
  async run(context: BenchContext): Promise<Measurement[]> {
    const plan = context.isQuick ? quickPlan : fullPlan;
    const write = (dataDir: string, isCheckpointed: boolean): WriteArgs => ({
      dataDir, logBytes: plan.logBytes, segmentBytes: plan.segmentBytes, batchBytes: BATCH_BYTES, recordValueBytes: RECORD_VALUE_BYTES, isCheckpointed,
    });
    const open = (dataDir: string, isClosedAfter: boolean): OpenArgs => ({ dataDir, segmentBytes: plan.segmentBytes, isClosedAfter });
    const measurements: Measurement[] = [];

    const bare = createBenchDir('recovery');
    try {
      const dataDir = path.join(bare.path, 'data');
      context.progress(`writing ${formatBytes(plan.logBytes)}, then SIGKILL without a checkpoint`);
      await crashAfterWriting(write(dataDir, false));
      const timings = await measureRounds(context, 'unclean, no checkpoint', plan.rounds, open(dataDir, false));
      assert(timings.every((t) => !t.hadCleanShutdown && t.recoveryPoint === 0), 'no checkpoint: recovery starts at offset 0');
      measurements.push(toMeasurement('unclean stop, no checkpoint', plan, timings, 'SIGKILL after the last append', '0 (no checkpoint file)'));
    } finally {
      bare.remove();
    }

    const checkpointed = createBenchDir('recovery');
    try {
      const dataDir = path.join(checkpointed.path, 'data');
      context.progress(`writing ${formatBytes(plan.logBytes)}, flush, checkpoint, then SIGKILL`);
      await crashAfterWriting(write(dataDir, true));
      const timings = await measureRounds(context, 'unclean, recent checkpoint', plan.rounds, open(dataDir, false));
      assert(timings.every((t) => !t.hadCleanShutdown && t.recoveryPoint === t.nextOffset), 'the checkpoint covers the whole log');
      measurements.push(toMeasurement('unclean stop, recent checkpoint', plan, timings, 'SIGKILL after flush() + checkpoint()', 'log end offset'));

      context.progress('recovering once more and closing cleanly');
      await measureOpen(open(dataDir, true));
      const cleanTimings = await measureRounds(context, 'clean shutdown', plan.rounds, open(dataDir, true));
      assert(cleanTimings.every((t) => t.hadCleanShutdown), 'each open follows a clean close');
      measurements.push(toMeasurement('clean shutdown', plan, cleanTimings, 'LogManager.close()', '- (clean: no recovery)'));
    } finally {
      checkpointed.remove();
    }
    return measurements;
  },
};

async function measureRounds(context: BenchContext, name: string, rounds: number, args: OpenArgs): Promise<OpenTimings[]> {
  const timings: OpenTimings[] = [];
  for (let round = 0; round < rounds; round++) {
    context.progress(`open after ${name}, round ${round + 1}/${rounds}`);
    timings.push(await measureOpen(args));
  }
  return timings;
}

function toMeasurement(name: string, plan: RecoveryPlan, timings: readonly OpenTimings[], stop: string, recoveryPoint: string): Measurement {
  return {
    benchmark: storageRecovery.name,
    case: name,
    settings: {
      log: `${formatBytes(plan.logBytes)} in ${timings[0].segments} segments`,
      'segment.bytes': formatBytes(plan.segmentBytes),
      batch: `${formatBytes(BATCH_BYTES)} (records of ${formatBytes(RECORD_VALUE_BYTES)})`,
      stop,
      'recovery point': recoveryPoint,
      'page cache': 'warm',
      timed: 'LogManager.open + openLog in a fresh process',
      rounds: String(timings.length),
    },
    figures: [
      figureOf('open ms', timings.map((t) => t.managerOpenMs + t.openLogMs)),
      figureOf('openLog ms', timings.map((t) => t.openLogMs)),
      figureOf('scanned MiB', timings.map((t) => t.scannedBytes / MiB)),
      ...(timings[0].scannedBytes > 0 ? [figureOf('scan MiB/s', timings.map((t) => t.scannedBytes / MiB / (t.openLogMs / 1000)))] : []),
    ],
  };
}

/** Runs the writer until it says `ready`, then kills it with SIGKILL and waits until it is gone. */
async function crashAfterWriting(args: WriteArgs): Promise<void> {
  const child = spawnChild('write', args);
  const exit = exitOf(child);
  const line = await firstLine(child, exit);
  assert(line.startsWith('ready '), `the writer said ${JSON.stringify(line)}`);
  child.kill('SIGKILL');
  await exit;
}

/**
 * Times one open in a fresh process. Waits for the process to be reaped: until then its pid still
 * answers kill(pid, 0), and the next open would take the data directory for locked by a live owner.
 */
async function measureOpen(args: OpenArgs): Promise<OpenTimings> {
  const child = spawnChild('open', args);
  const exit = exitOf(child);
  const line = await firstLine(child, exit);
  const { code, signal } = await exit;
  assert(args.isClosedAfter ? code === 0 : signal === 'SIGKILL', `the open child ended with code ${code}, signal ${signal}`);
  return JSON.parse(line) as OpenTimings;
}

function spawnChild(mode: 'write' | 'open', args: WriteArgs | OpenArgs): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', childPath, mode, JSON.stringify(args)], { cwd: repositoryRoot, stdio: ['ignore', 'pipe', 'inherit'] });
}

interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** Resolves on 'close', after 'exit': by then the process is reaped and its output all read. */
function exitOf(child: ChildProcess): Promise<Exit> {
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => resolve({ code, signal }));
  });
}

/** The child's first line of output; rejects if it exits first or takes longer than CHILD_TIMEOUT_MS. */
function firstLine(child: ChildProcess, exit: Promise<Exit>): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`child ${child.pid} said nothing for ${CHILD_TIMEOUT_MS} ms`));
    }, CHILD_TIMEOUT_MS);
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (chunk: string) => {
      text += chunk;
      const newline = text.indexOf('\n');
      if (newline < 0) return;
      clearTimeout(timer);
      resolve(text.slice(0, newline));
    });
    exit.then(
      ({ code, signal }) => {
        clearTimeout(timer);
        reject(new Error(`child ${child.pid} exited (code ${code}, signal ${signal}) before answering`));
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}
