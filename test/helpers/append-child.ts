/**
 * A producer in its own process, for the kill -9 test (test/broker/storage/kill-crash.test.ts):
 * it opens a LogManager on a data directory (taking the lock, recovering the log after an unclean
 * stop), then appends random batches with flush.messages=1 until it is killed.
 *
 *   node --import tsx test/helpers/append-child.ts <data dir> [seed]
 *
 * Output on stdout, one line each:
 *
 *   ready <nextOffset>                              the log is open; its recovered log end offset
 *   ack <baseOffset> <lastOffset> <sha256 hex>      the batch is fsynced (its `flushed` resolved);
 *                                                   the hash is of the batch as stored (base offset set)
 *   done                                            the bounds were reached and the log closed cleanly
 *
 * A line is written only after what it reports is true, so every `ack` the parent reads is a
 * promise the storage engine must keep after a SIGKILL. process.stdout on a pipe is synchronous
 * on Linux, so a line written before the kill reaches the parent.
 *
 * Bounded: at most MAX_BATCHES batches and MAX_RUN_MS of appending, then it closes and exits.
 */

import assert from 'node:assert';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { RecordInput } from '../../common/record-batch.ts';
import { encodeRecordBatch } from '../../common/record-batch.ts';
import type { LogConfig } from '../../broker/storage/log-config.ts';
import { resolveLogConfig } from '../../broker/storage/log-config.ts';
import { LogManager } from '../../broker/storage/log-manager.ts';

export const APPEND_CHILD_TOPIC = 'crash';

/** Small segments and indexes, so a run of a few hundred batches rolls several times. */
export const appendChildLogConfig: LogConfig = resolveLogConfig({
  segmentBytes: 4096,
  segmentIndexBytes: 120,
  indexIntervalBytes: 256,
  retentionMs: -1,
  flushMessages: 1,
});

const MAX_BATCHES = 20_000;
const MAX_RUN_MS = 30_000;
/** Appends waiting for their fsync at once: several, so group commit shares fsyncs among them. */
const MAX_IN_FLIGHT = 8;

/** mulberry32: a tiny seeded generator, so a failing run's records can be produced again. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

function randomBytes(random: () => number, maxLength: number): Buffer {
  const bytes = Buffer.alloc(Math.floor(random() * (maxLength + 1)));
  for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(random() * 256);
  return bytes;
}

function randomBatch(random: () => number): Buffer {
  const records: RecordInput[] = [];
  const count = 1 + Math.floor(random() * 5);
  for (let i = 0; i < count; i++) {
    records.push({
      key: random() < 0.2 ? null : randomBytes(random, 16),
      value: randomBytes(random, 200),
      headers: random() < 0.3 ? [{ key: 'h', value: randomBytes(random, 8) }] : [],
      timestamp: Date.now(),
    });
  }
  return encodeRecordBatch({ records, compression: random() < 0.2 ? 'gzip' : 'none' });
}

async function main(dataDir: string, seed: number): Promise<void> {
  const random = seededRandom(seed);
  const manager = await LogManager.open({ dataDir });
  const log = manager.openLog(APPEND_CHILD_TOPIC, 0, appendChildLogConfig);
  process.stdout.write(`ready ${log.nextOffset}\n`);
  const deadlineMs = Date.now() + MAX_RUN_MS;
  const inFlight: Array<Promise<void>> = [];
  for (let i = 0; i < MAX_BATCHES && Date.now() < deadlineMs; i++) {
    const batch = randomBatch(random);
    const result = log.append(batch);
    assert(result.flushed !== null, 'flush.messages=1 must ask for an fsync on every append');
    // append() wrote the base offset into the buffer: these are the bytes on disk.
    const sha256 = createHash('sha256').update(batch).digest('hex');
    inFlight.push(result.flushed.then(() => void process.stdout.write(`ack ${result.baseOffset} ${result.lastOffset} ${sha256}\n`)));
    if (inFlight.length >= MAX_IN_FLIGHT) await inFlight.shift();
  }
  await Promise.all(inFlight);
  await manager.close();
  process.stdout.write('done\n');
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  const [dataDir, seedText] = process.argv.slice(2);
  assert(dataDir !== undefined, 'usage: append-child.ts <data dir> [seed]');
  main(dataDir, Number(seedText ?? Date.now())).catch((error: unknown) => {
    process.stderr.write(`append-child failed: ${(error as Error).stack ?? String(error)}\n`);
    process.exit(1);
  });
}
