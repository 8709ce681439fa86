/**
 * The workload drivers: produce, consume and e2e-latency, run against any StreamClient
 * (stream-client.ts) and timed here, so every system is measured by the same code.
 *
 * - produce: `recordCount` records in sends of `batchRecords`, at most `inFlightBatches` sends
 *   awaiting their acknowledgement. A record's latency is the time from the send() that carried
 *   it to that send's acknowledgement, as kafka-producer-perf-test measures from send() to its
 *   callback; every record counts once (a batch of 1,000 adds 1,000 values to the histogram).
 * - consume: a new group joins (timed apart), then reads `recordCount` records from the start of
 *   the stream; records/s and MB/s are over the fetch time only, as kafka-consumer-perf-test
 *   prints fetch.time.ms apart from the rebalance.
 * - e2e-latency: every millisecond timer tick, the producer sends the records due at
 *   `e2eRatePerSec` since the start, each stamped with its send time (performance.timeOrigin +
 *   performance.now(), a float64 in the value's first 8 bytes); the consumer, in this process on
 *   the same clock, subtracts it on arrival. Records sent during the warm-up are not counted.
 *
 * Percentiles come from an HdrHistogram (hdr-histogram-js, 3 significant digits, nanoseconds).
 * Every wait is bounded: a send not acknowledged within ACK_TIMEOUT_MS fails the workload.
 */

import * as hdr from 'hdr-histogram-js';
import type { Histogram } from 'hdr-histogram-js';
import type { Figure } from '../benchmark.ts';
import { figureOf } from '../benchmark.ts';
import { createRandom } from '../workload.ts';
import type { StreamClient } from './stream-client.ts';
import type { WorkloadSizes } from './workload.ts';
import { VALUE_BYTES } from './workload.ts';

/** Longer than any fsync stall seen here (seconds), short enough that a hung server ends the run. */
const ACK_TIMEOUT_MS = 60_000;
/** A consume round that has not read its records by then has lost some. */
const CONSUME_TIMEOUT_MS = 120_000;
/** After the last e2e record is sent, how long the consumer may take to see it. */
const E2E_DRAIN_MS = 10_000;
/** The e2e producer's tick: Node's timers do not go below 1 ms. */
const E2E_TICK_MS = 1;

/** Record latencies in an HdrHistogram; a batch's latency counts once per record it carried. */
export class RecordLatencies {
  readonly #histogram: Histogram = hdr.build({ numberOfSignificantValueDigits: 3 });

  recordMs(durationMs: number, recordCount: number): void {
    this.#histogram.recordValueWithCount(Math.max(1, Math.round(durationMs * 1e6)), recordCount);
  }

  get count(): number {
    return this.#histogram.totalCount;
  }

  /** The value at `percentile` (0–100), in ms. */
  percentileMs(percentile: number): number {
    return this.#histogram.getValueAtPercentile(percentile) / 1e6;
  }

  get meanMs(): number {
    return this.#histogram.mean / 1e6;
  }

  get maxMs(): number {
    return this.#histogram.maxValue / 1e6;
  }
}

/** The latency figures of the comparison, in this order everywhere: avg, p50, p95, p99, p99.9, max. */
export const LATENCY_LABELS = ['avg ms', 'p50 ms', 'p95 ms', 'p99 ms', 'p99.9 ms', 'max ms'] as const;

export function latencyFigures(rounds: readonly RecordLatencies[]): Figure[] {
  const of = (pick: (latencies: RecordLatencies) => number): number[] => rounds.map(pick);
  return [
    figureOf('avg ms', of((l) => l.meanMs)),
    figureOf('p50 ms', of((l) => l.percentileMs(50))),
    figureOf('p95 ms', of((l) => l.percentileMs(95))),
    figureOf('p99 ms', of((l) => l.percentileMs(99))),
    figureOf('p99.9 ms', of((l) => l.percentileMs(99.9))),
    figureOf('max ms', of((l) => l.maxMs)),
  ];
}

/** The clock both ends of the e2e workload read: milliseconds since the epoch, sub-microsecond resolution. */
export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}

/** `count` distinct 100-byte values (views of one random pool, so nothing compresses them). */
export function payloadValues(count: number, seed = 7): Buffer[] {
  const random = createRandom(seed);
  const pool = Buffer.allocUnsafe(VALUE_BYTES + count);
  for (let i = 0; i < pool.length; i++) pool[i] = (random() * 256) | 0;
  return Array.from({ length: count }, (_, i) => pool.subarray(i, i + VALUE_BYTES));
}

export interface ProduceRound {
  readonly recordCount: number;
  readonly bytes: number;
  readonly elapsedMs: number;
  readonly latencies: RecordLatencies;
}

/** Sends `recordCount` records as fast as the acknowledgements allow (see the file header). */
export async function produceRound(client: StreamClient, stream: string, recordCount: number, sizes: WorkloadSizes): Promise<ProduceRound> {
  const batch = payloadValues(sizes.batchRecords);
  const latencies = new RecordLatencies();
  const window = new SendWindow(sizes.inFlightBatches);
  const startMs = performance.now();
  let sentCount = 0;
  let bytes = 0;
  while (sentCount < recordCount) {
    await window.waitForRoom();
    const count = Math.min(batch.length, recordCount - sentCount);
    const values = count === batch.length ? batch : batch.slice(0, count);
    const sentAtMs = performance.now();
    window.add(client.send(stream, values).then(() => latencies.recordMs(performance.now() - sentAtMs, count)));
    sentCount += count;
    bytes += count * VALUE_BYTES;
  }
  await window.drain();
  return { recordCount, bytes, elapsedMs: performance.now() - startMs, latencies };
}

export interface ConsumeRound {
  readonly recordCount: number;
  readonly bytes: number;
  readonly joinMs: number;
  readonly fetchMs: number;
}

/** A new group reads `recordCount` records from the start of `stream`; join and fetch timed apart. */
export async function consumeRound(client: StreamClient, stream: string, group: string, recordCount: number): Promise<ConsumeRound> {
  const joinStartMs = performance.now();
  const reader = await client.joinGroup(stream, group, 'start');
  const fetchStartMs = performance.now();
  let readCount = 0;
  let bytes = 0;
  try {
    await reader.read(
      (values) => {
        readCount += values.length;
        for (const value of values) bytes += value.length;
      },
      () => readCount >= recordCount,
      fetchStartMs + CONSUME_TIMEOUT_MS,
    );
  } finally {
    await reader.close();
  }
  const fetchMs = performance.now() - fetchStartMs;
  if (readCount < recordCount) throw new Error(`group ${group} read ${readCount} of ${recordCount} records of ${stream} in ${CONSUME_TIMEOUT_MS / 1000} s`);
  return { recordCount: readCount, bytes, joinMs: fetchStartMs - joinStartMs, fetchMs };
}

export interface E2eRun {
  readonly latencies: RecordLatencies;
  readonly measuredRecordCount: number;
  readonly measuredMs: number;
  /** Ticks at which more than a second of records waited for acknowledgement: the system fell behind the rate. */
  readonly behindTicks: number;
}

/** A producer at a fixed rate and a consumer in this process (see the file header). */
export async function e2eLatencyRun(client: StreamClient, stream: string, group: string, sizes: WorkloadSizes): Promise<E2eRun> {
  await client.createStream(stream);
  const reader = await client.joinGroup(stream, group, 'end');
  const template = payloadValues(1)[0];
  const latencies = new RecordLatencies();
  const totalMs = sizes.e2eWarmupMs + sizes.e2eDurationMs;
  const startMs = nowMs();
  const measureFromMs = startMs + sizes.e2eWarmupMs;
  let sentCount = 0;
  let receivedCount = 0;
  let isProducerDone = false;
  const reading = reader.read(
    (values) => {
      const arrivedMs = nowMs();
      receivedCount += values.length;
      for (const value of values) {
        const sentAtMs = value.readDoubleLE(0);
        if (sentAtMs >= measureFromMs) latencies.recordMs(arrivedMs - sentAtMs, 1);
      }
    },
    () => isProducerDone && receivedCount >= sentCount,
    performance.now() + totalMs + E2E_DRAIN_MS,
  );
  // At most a second of sends (one per tick) unacknowledged; beyond that the rate is not being kept.
  const window = new SendWindow(1000 / E2E_TICK_MS);
  let behindTicks = 0;
  try {
    for (let elapsedMs = 0; elapsedMs < totalMs; elapsedMs = nowMs() - startMs) {
      const dueCount = Math.floor((elapsedMs * sizes.e2eRatePerSec) / 1000);
      if (dueCount > sentCount) {
        if (window.isFull) {
          behindTicks += 1;
          await window.waitForRoom();
        }
        const sentAtMs = nowMs();
        const values = Array.from({ length: dueCount - sentCount }, () => {
          const value = Buffer.from(template);
          value.writeDoubleLE(sentAtMs, 0);
          return value;
        });
        window.add(client.send(stream, values));
        sentCount = dueCount;
      }
      await sleepMs(E2E_TICK_MS);
    }
    await window.drain();
  } finally {
    isProducerDone = true;
    await reading;
    await reader.close();
  }
  if (receivedCount < sentCount) throw new Error(`e2e consumer received ${receivedCount} of ${sentCount} records of ${stream}`);
  return { latencies, measuredRecordCount: latencies.count, measuredMs: sizes.e2eDurationMs, behindTicks };
}

/**
 * Sends in flight, at most `limit` of them (counted by add() calls). A failed send fails the
 * next wait; a send not settled within ACK_TIMEOUT_MS fails it too.
 */
class SendWindow {
  readonly #limit: number;
  #inFlight = 0;
  #failure: unknown = null;
  #wake: (() => void) | null = null;

  constructor(limit: number) {
    this.#limit = limit;
  }

  get isFull(): boolean {
    return this.#inFlight >= this.#limit;
  }

  add(send: Promise<unknown>): void {
    this.#inFlight += 1;
    send
      .catch((error: unknown) => {
        this.#failure ??= error;
      })
      .finally(() => {
        this.#inFlight -= 1;
        const wake = this.#wake;
        this.#wake = null;
        wake?.();
      });
  }

  async waitForRoom(): Promise<void> {
    await this.#waitUntil(() => this.#inFlight < this.#limit);
  }

  async drain(): Promise<void> {
    await this.#waitUntil(() => this.#inFlight === 0);
  }

  async #waitUntil(isDone: () => boolean): Promise<void> {
    const deadlineMs = performance.now() + ACK_TIMEOUT_MS;
    while (!isDone() && this.#failure === null) {
      const remainingMs = deadlineMs - performance.now();
      if (remainingMs <= 0) throw new Error(`no acknowledgement within ${ACK_TIMEOUT_MS / 1000} s (${this.#inFlight} sends in flight)`);
      let timer: NodeJS.Timeout | undefined;
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
        timer = setTimeout(resolve, remainingMs);
      });
      clearTimeout(timer);
    }
    if (this.#failure !== null) throw this.#failure;
  }
}

function sleepMs(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
