/**
 * The other process of the recovery benchmark (storage-recovery.ts): a broker's storage that is
 * stopped without warning. Run as
 *
 *   node --import tsx bench/storage-recovery-child.ts write '<WriteArgs JSON>'
 *   node --import tsx bench/storage-recovery-child.ts open  '<OpenArgs JSON>'
 *
 * `write` fills a fresh data directory, optionally flushes and checkpoints, prints `ready`, and
 * waits for the parent's SIGKILL: nothing after the last append runs, as in a crash.
 *
 * `open` times LogManager.open and openLog on the directory, prints the timings as one JSON line,
 * then either closes cleanly (so the next start is clean) or SIGKILLs itself, leaving the
 * directory as unclean as it found it, so the same recovery can be measured again. A fresh
 * process per measurement is what a restarting broker pays, JIT warm-up included.
 */

import fs from 'node:fs';
import { LogManager } from '../broker/storage/log-manager.ts';
import { RECOVERY_POINT_CHECKPOINT, readCheckpoint } from '../broker/storage/checkpoint-file.ts';
import { nodeFileIo } from '../broker/storage/file-io.ts';
import { partitionDirName } from '../broker/storage/file-names.ts';
import { NEVER, resolveLogConfig } from '../broker/storage/log-config.ts';
import type { LogConfig } from '../broker/storage/log-config.ts';
import { encodeBatchOfBytes } from './workload.ts';

const TOPIC = 'bench';
const PARTITION = 0;

export interface WriteArgs {
  readonly dataDir: string;
  readonly logBytes: number;
  readonly segmentBytes: number;
  readonly batchBytes: number;
  readonly recordValueBytes: number;
  /** Flush, then write the recovery-point checkpoint, before waiting to be killed. */
  readonly isCheckpointed: boolean;
}

export interface OpenArgs {
  readonly dataDir: string;
  readonly segmentBytes: number;
  /** Close cleanly after measuring (untimed) instead of dying by SIGKILL. */
  readonly isClosedAfter: boolean;
}

export interface OpenTimings {
  readonly managerOpenMs: number;
  readonly openLogMs: number;
  readonly hadCleanShutdown: boolean;
  readonly recoveryPoint: number;
  readonly nextOffset: number;
  readonly segments: number;
  /** Bytes of the segments recovery scanned: from the one holding the checkpointed recovery point to the end. */
  readonly scannedBytes: number;
}

function configOf(segmentBytes: number): LogConfig {
  return resolveLogConfig({ segmentBytes, flushMessages: NEVER, flushMs: NEVER });
}

/** Written with fs.writeSync: a pipe write through process.stdout may still be queued when SIGKILL lands. */
function reply(line: string): void {
  fs.writeSync(1, `${line}\n`);
}

async function write(args: WriteArgs): Promise<void> {
  const manager = await LogManager.open({ dataDir: args.dataDir });
  const log = manager.openLog(TOPIC, PARTITION, configOf(args.segmentBytes));
  const { batch } = encodeBatchOfBytes(args.batchBytes, args.recordValueBytes);
  for (let appendedBytes = 0; appendedBytes + batch.length <= args.logBytes; appendedBytes += batch.length) log.append(batch);
  if (args.isCheckpointed) {
    await log.flush();
    await manager.checkpoint();
  }
  reply(`ready ${JSON.stringify({ nextOffset: log.nextOffset, segments: log.segments.length, recoveryPoint: log.recoveryPoint })}`);
  setInterval(() => undefined, 60_000); // alive until killed
}

async function open(args: OpenArgs): Promise<void> {
  const checkpoint = readCheckpoint(nodeFileIo, args.dataDir, RECOVERY_POINT_CHECKPOINT, () => undefined);
  const checkpointed = checkpoint.get(partitionDirName(TOPIC, PARTITION)) ?? 0;
  const t0 = performance.now();
  const manager = await LogManager.open({ dataDir: args.dataDir });
  const t1 = performance.now();
  const log = manager.openLog(TOPIC, PARTITION, configOf(args.segmentBytes));
  const t2 = performance.now();
  const segments = log.segments;
  let first = 0;
  while (first + 1 < segments.length && segments[first + 1].baseOffset <= checkpointed) first += 1;
  const scannedBytes = manager.hadCleanShutdown ? 0 : segments.slice(first).reduce((sum, s) => sum + s.sizeBytes, 0);
  const timings: OpenTimings = {
    managerOpenMs: t1 - t0,
    openLogMs: t2 - t1,
    hadCleanShutdown: manager.hadCleanShutdown,
    recoveryPoint: checkpointed,
    nextOffset: log.nextOffset,
    segments: segments.length,
    scannedBytes,
  };
  reply(JSON.stringify(timings));
  if (args.isClosedAfter) {
    await manager.close();
    process.exit(0);
  }
  process.kill(process.pid, 'SIGKILL');
}

const [mode, json] = process.argv.slice(2);
if (mode === 'write') await write(JSON.parse(json) as WriteArgs);
else if (mode === 'open') await open(JSON.parse(json) as OpenArgs);
else {
  console.error(`usage: storage-recovery-child.ts write|open '<json>' (got ${mode})`);
  process.exit(2);
}
