/**
 * The broker's Prometheus metrics, on a registry of its own (never prom-client's global one, so
 * two brokers in one process, as tests run them, do not mix their numbers).
 *
 * | series                                                  | type      | fed by                                   |
 * |---------------------------------------------------------|-----------|------------------------------------------|
 * | minikafka_records_in_total{topic}, _bytes_in_total      | counter   | core, per appended batch (TrafficMetrics)|
 * | minikafka_records_out_total{topic}, _bytes_out_total    | counter   | core, per fetch answered                 |
 * | minikafka_log_end_offset{topic,partition}               | gauge     | read from the core at scrape             |
 * | minikafka_log_start_offset{topic,partition}             | gauge     | read from the core at scrape             |
 * | minikafka_log_segments{topic,partition}                 | gauge     | read from the core at scrape             |
 * | minikafka_log_size_bytes{topic,partition}               | gauge     | read from the core at scrape             |
 * | minikafka_log_fsync_duration_seconds                    | histogram | storage, per fsync (StorageMetrics)      |
 * | minikafka_log_recovery_truncations_total, _bytes_total  | counter   | storage, per torn tail cut at recovery   |
 * | minikafka_log_segments_rolled_total, _deleted_total     | counter   | storage                                  |
 * | minikafka_log_index_rebuilds_total                      | counter   | storage                                  |
 * | minikafka_http_request_duration_seconds{method,route,status_code} | histogram | the HTTP API, per response   |
 * | minikafka_fetch_purgatory_size                          | gauge     | fetches waiting for records (long polls) |
 * | process_*, nodejs_*                                     | various   | prom-client's default collectors         |
 *
 * Counters move per batch or per request, never per record. The storage metrics must exist
 * before BrokerCore.open (recovery reports into them); the gauges need the core, so they are
 * attached afterwards with `watchCore`.
 */

import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { BrokerCore, TrafficMetrics } from './core/broker-core.ts';
import type { StorageMetrics } from './storage/storage-observer.ts';

export interface BrokerMetrics {
  readonly registry: Registry;
  readonly traffic: TrafficMetrics;
  readonly storage: StorageMetrics;
  /** Makes the per-partition gauges read from `core` at each scrape (the last core given wins). */
  watchCore(core: BrokerCore): void;
  /** Makes the purgatory gauge read `size` at each scrape: fetches waiting now, as Kafka's DelayedFetch purgatory. */
  watchFetchPurgatory(size: () => number): void;
  /** One finished HTTP request; `route` is the route pattern (`/topics/:topic`), not the URL. */
  observeHttpRequest(method: string, route: string, statusCode: number, durationSeconds: number): void;
}

export interface BrokerMetricsOptions {
  /** prom-client's process and Node.js collectors (CPU, memory, event loop lag, GC). Default true. */
  readonly processMetrics?: boolean;
}

/** From 0.5 ms (a produce to the page cache) to 30 s (minikafka.fetch.max.wait.ms's default). */
const HTTP_BUCKETS_SECONDS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
/** From 50 µs (a tmpfs or a lying disk) to 1 s (a struggling one). */
const FSYNC_BUCKETS_SECONDS = [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1];

export function createBrokerMetrics(options: BrokerMetricsOptions = {}): BrokerMetrics {
  const registry = new Registry();
  const registers = [registry];
  if (options.processMetrics ?? true) collectDefaultMetrics({ register: registry });

  const recordsIn = new Counter({ name: 'minikafka_records_in_total', help: 'Records appended, by topic (retried duplicates not counted).', labelNames: ['topic'], registers });
  const bytesIn = new Counter({ name: 'minikafka_bytes_in_total', help: 'Record batch bytes appended, by topic.', labelNames: ['topic'], registers });
  const recordsOut = new Counter({ name: 'minikafka_records_out_total', help: 'Records sent to fetches, by topic (whole batches, as stored).', labelNames: ['topic'], registers });
  const bytesOut = new Counter({ name: 'minikafka_bytes_out_total', help: 'Record batch bytes sent to fetches, by topic.', labelNames: ['topic'], registers });

  const fsyncSeconds = new Histogram({ name: 'minikafka_log_fsync_duration_seconds', help: 'Time each fsync of a log, index or directory took.', buckets: FSYNC_BUCKETS_SECONDS, registers });
  const recoveryTruncations = new Counter({ name: 'minikafka_log_recovery_truncations_total', help: 'Torn or corrupt log tails cut off during recovery after an unclean stop.', registers });
  const recoveryTruncatedBytes = new Counter({ name: 'minikafka_log_recovery_truncated_bytes_total', help: 'Bytes cut off log tails during recovery.', registers });
  const segmentsRolled = new Counter({ name: 'minikafka_log_segments_rolled_total', help: 'New active segments started.', registers });
  const segmentsDeleted = new Counter({ name: 'minikafka_log_segments_deleted_total', help: 'Segments deleted, by reason (retention, truncation).', labelNames: ['reason'], registers });
  const indexRebuilds = new Counter({ name: 'minikafka_log_index_rebuilds_total', help: 'Offset and time indexes rebuilt from their log file.', registers });

  const httpSeconds = new Histogram({ name: 'minikafka_http_request_duration_seconds', help: 'HTTP API request latency, by route pattern and status.', labelNames: ['method', 'route', 'status_code'], buckets: HTTP_BUCKETS_SECONDS, registers });

  let purgatorySize = (): number => 0;
  new Gauge({
    name: 'minikafka_fetch_purgatory_size', help: 'Fetches waiting for records to arrive (long polls), as Kafka counts its DelayedFetch purgatory.', registers,
    collect() {
      this.set(purgatorySize());
    },
  });

  let watched: BrokerCore | null = null;
  const partitionGauge = (name: string, help: string, read: (log: PartitionView) => number): void => {
    new Gauge({
      name, help, labelNames: ['topic', 'partition'], registers,
      collect() {
        this.reset();
        if (watched !== null) for (const view of partitionViews(watched)) this.set({ topic: view.topic, partition: String(view.partition) }, read(view));
      },
    });
  };
  partitionGauge('minikafka_log_end_offset', 'Log end offset (the offset the next record gets) per partition.', (view) => view.nextOffset);
  partitionGauge('minikafka_log_start_offset', 'First offset still in the log per partition (raised by retention).', (view) => view.logStartOffset);
  partitionGauge('minikafka_log_segments', 'Segment files per partition, active one included.', (view) => view.segmentCount);
  partitionGauge('minikafka_log_size_bytes', 'Bytes of log per partition, all segments.', (view) => view.sizeBytes);

  return {
    registry,
    traffic: {
      produced(topic, records, bytes) {
        recordsIn.inc({ topic }, records);
        bytesIn.inc({ topic }, bytes);
      },
      fetched(topic, records, bytes) {
        recordsOut.inc({ topic }, records);
        bytesOut.inc({ topic }, bytes);
      },
    },
    storage: {
      fsyncCompleted: (durationMs) => fsyncSeconds.observe(durationMs / 1000),
      recoveryCut(cut) {
        recoveryTruncations.inc();
        recoveryTruncatedBytes.inc(cut.truncatedBytes);
      },
      segmentRolled: () => segmentsRolled.inc(),
      segmentDeleted: (_dir, reason) => segmentsDeleted.inc({ reason }),
      indexRebuilt: () => indexRebuilds.inc(),
    },
    watchCore(core) {
      watched = core;
    },
    watchFetchPurgatory(size) {
      purgatorySize = size;
    },
    observeHttpRequest(method, route, statusCode, durationSeconds) {
      httpSeconds.observe({ method, route, status_code: String(statusCode) }, durationSeconds);
    },
  };
}

interface PartitionView {
  readonly topic: string;
  readonly partition: number;
  readonly nextOffset: number;
  readonly logStartOffset: number;
  readonly segmentCount: number;
  readonly sizeBytes: number;
}

/** A snapshot of every open partition; a topic created or deleted mid-scrape is skipped. */
function partitionViews(core: BrokerCore): PartitionView[] {
  const views: PartitionView[] = [];
  for (const topic of core.topics.list()) {
    if (!core.topics.has(topic)) continue;
    const count = core.topics.partitionCount(topic);
    for (let partition = 0; partition < count; partition++) {
      const { log } = core.topics.partition(topic, partition);
      const segments = log.segments;
      views.push({ topic, partition, nextOffset: log.nextOffset, logStartOffset: log.logStartOffset, segmentCount: segments.length, sizeBytes: log.sizeBytes });
    }
  }
  return views;
}
