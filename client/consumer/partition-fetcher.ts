/**
 * One assigned partition's fetch loop: long-poll `GET /topics/{t}/partitions/{p}/records` for raw
 * record batches from the fetch offset, find from their headers where the next fetch starts, and
 * hand the answer to the fetch queue; then, once the queue has room for this partition, fetch
 * again from there. The runner decodes an answer (fetched-batch.ts) when it takes it, so while
 * it decodes and the application processes one answer, the next fetch is already in flight
 * (Kafka's consumer pipelines fetches the same way, and parses them lazily too), and never more
 * than that.
 *
 * The loop starts at the partition's position and belongs to one epoch of it (partition-state.ts):
 * seek, pause and revocation abort it and, where needed, start a new one.
 *
 * Errors:
 * - OFFSET_OUT_OF_RANGE (the offset is below the log start, e.g. retention deleted it, or above
 *   the log end, e.g. after data loss): auto.offset.reset decides, from the valid range the error
 *   carries: `earliest` goes to the log start offset, `latest` to the log end offset, `none`
 *   stops the consumer with the broker's error. The new position is handed to the runner as an
 *   empty result, so it takes effect in order.
 * - Retriable errors (a broker restarting, a lost connection, a timeout) are retried with backoff
 *   (the consumer's `retry` options; without limit by default, as Java's consumer).
 * - Anything else, and an answer whose batch headers do not add up, is handed to the runner as a
 *   failure in the partition's order: the records before it are processed first, then the
 *   consumer stops. A batch whose records do not decode (a CRC, a record) stops it the same way,
 *   from the runner, when it decodes that answer.
 */

import { setTimeout as sleep } from 'node:timers/promises';
import { BrokerError, isRetriable } from '../errors.ts';
import { topicPath } from '../metadata.ts';
import { backoffMs } from '../retry.ts';
import type { Transport } from '../transport.ts';
import type { ConsumerConfig } from './consumer-config.ts';
import type { FetchQueue } from './fetch-queue.ts';
import { nextFetchOffset } from './fetched-batch.ts';
import type { PartitionState } from './partition-state.ts';

const RECORD_BATCH_MEDIA_TYPE = 'application/vnd.kafka.record-batch';
const EMPTY = Buffer.alloc(0);

/** Records fetched for a partition (possibly none: a reset, or batches with nothing to hand out). */
export interface FetchedRecords {
  readonly kind: 'records';
  readonly epoch: number;
  /** The answer's record batches, not yet decoded (decodeFetch): empty after a reset. */
  readonly bytes: Buffer;
  /** The offset this fetch asked for: records before it in the first batch are skipped. */
  readonly fetchOffset: number;
  /** The position once every message is processed. */
  readonly nextOffset: number;
  readonly highWatermark: number;
  readonly sizeBytes: number;
}

/** The partition cannot go on: the runner stops the consumer with `error` when it reaches this. */
export interface FetchFailure {
  readonly kind: 'failure';
  readonly epoch: number;
  readonly error: Error;
  readonly sizeBytes: 0;
}

export type FetchItem = FetchedRecords | FetchFailure;

export interface FetcherContext {
  readonly transport: Transport;
  readonly queue: FetchQueue;
  readonly config: ConsumerConfig<unknown, unknown>;
}

/** Runs until `signal` aborts or the partition fails; never rejects. */
export async function runFetchLoop(context: FetcherContext, part: PartitionState, signal: AbortSignal): Promise<void> {
  const { transport, queue, config } = context;
  const epoch = part.epoch;
  const path = `${topicPath(part.topic)}/partitions/${part.partition}/records`;
  let offset = part.position;
  let failures = 0;
  const fail = (error: Error): void => queue.put(part, { kind: 'failure', epoch, error, sizeBytes: 0 });
  while (!signal.aborted) {
    if (!(await queue.waitForRoom(part, signal))) return;
    let response;
    try {
      response = await transport.request({
        method: 'GET',
        path: `${path}?offset=${offset}&max_bytes=${config.maxPartitionFetchBytes}&timeout=${config.fetchMaxWaitMs}`,
        accept: RECORD_BATCH_MEDIA_TYPE,
        // The long poll itself, plus the usual allowance for an answer.
        timeoutMs: config.fetchMaxWaitMs + config.requestTimeoutMs,
        signal,
      });
    } catch (error) {
      if (signal.aborted) return;
      const reset = resetOffset(error, config.autoOffsetReset, offset);
      if (reset !== null) {
        offset = reset;
        queue.put(part, { kind: 'records', epoch, bytes: EMPTY, fetchOffset: offset, nextOffset: offset, highWatermark: part.highWatermark, sizeBytes: 0 });
        continue;
      }
      if (!isRetriable(error) || failures >= config.retry.retries) {
        fail(error as Error);
        return;
      }
      failures++;
      if (!(await pause(backoffMs(failures, config.retry), signal))) return;
      continue;
    }
    // Aborted while the answer was on its way: a new loop may own the partition's queue slot now.
    if (signal.aborted) return;
    failures = 0;
    const highWatermark = Number(response.headers['x-high-watermark']);
    if (part.epoch === epoch) {
      part.highWatermark = highWatermark;
      part.logStartOffset = Number(response.headers['x-log-start-offset']);
    }
    let nextOffset;
    try {
      nextOffset = nextFetchOffset(response.body, part.topic, part.partition, offset);
    } catch (error) {
      fail(error as Error);
      return;
    }
    if (nextOffset > offset) {
      queue.put(part, { kind: 'records', epoch, bytes: response.body, fetchOffset: offset, nextOffset, highWatermark, sizeBytes: response.body.length });
      offset = nextOffset;
    } else if (offset < highWatermark || config.fetchMaxWaitMs === 0) {
      // Nothing at an offset below the high watermark (the broker always sends a whole batch
      // there, so this should not happen), or a fetch that may not wait: a short pause keeps
      // either from becoming a busy loop. An empty long poll is simply sent again.
      if (!(await pause(Math.max(1, config.retry.retryBackoffMs), signal))) return;
    }
  }
}

/**
 * Where auto.offset.reset sends a fetch whose offset is outside [logStartOffset, highWatermark],
 * or null: not an OFFSET_OUT_OF_RANGE, or reset `none` (the error stops the consumer).
 */
function resetOffset(error: unknown, reset: ConsumerConfig<unknown, unknown>['autoOffsetReset'], offset: number): number | null {
  if (!(error instanceof BrokerError && error.code === 'OFFSET_OUT_OF_RANGE') || reset === 'none') return null;
  const { logStartOffset, highWatermark } = error.details as { logStartOffset?: unknown; highWatermark?: unknown };
  const target = reset === 'earliest' ? logStartOffset : highWatermark;
  // The broker's error always carries the range; without it, the fetch would repeat the same offset forever.
  if (typeof target !== 'number' || !Number.isSafeInteger(target) || target === offset) return null;
  return target;
}

/** Waits `ms`; false when `signal` aborted first. */
async function pause(ms: number, signal: AbortSignal): Promise<boolean> {
  try {
    await sleep(ms, undefined, { signal });
    return true;
  } catch {
    return false;
  }
}
