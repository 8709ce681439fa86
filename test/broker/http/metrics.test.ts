/**
 * The Prometheus endpoint after real traffic: per-topic counters, per-partition gauges read at
 * scrape, storage events (rolls, fsyncs, a recovery cut after a simulated crash), request latency
 * by route pattern, and process metrics.
 */

import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { CLEAN_SHUTDOWN_MARKER } from '../../../broker/storage/log-manager.ts';
import { encodeRecordBatch } from '../../../common/record-batch.ts';
import type { HarnessOptions, HttpHarness } from './http-harness.ts';
import { JSON_V2, RECORD_BATCH, startHarness } from './http-harness.ts';

const harnesses: HttpHarness[] = [];
async function start(options: HarnessOptions = {}): Promise<HttpHarness> {
  const harness = await startHarness(options);
  harnesses.push(harness);
  return harness;
}
afterEach(async () => {
  for (const harness of harnesses.splice(0).reverse()) await harness.close();
});

/** The value of one sample line (`name{labels} value`) in the exposition text, or undefined. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('GET /metrics', () => {
  test('exposes traffic, log, storage, request and process series after produce and fetch', async () => {
    const h = await start({ processMetrics: true });
    await h.app.inject({ method: 'POST', url: '/topics', payload: { name: 'orders', partitions: 2, configs: { 'flush.messages': '1', 'segment.bytes': '200' } } });
    for (let i = 0; i < 3; i++) {
      await h.app.inject({ method: 'POST', url: '/topics/orders/partitions/1', headers: { 'content-type': JSON_V2 }, payload: { records: [{ value: 'x'.repeat(60) }, { value: 'y' }] } });
    }
    const batch = encodeRecordBatch({ records: [{ value: 'raw' }] });
    await h.app.inject({ method: 'POST', url: '/topics/orders/partitions/0', headers: { 'content-type': RECORD_BATCH }, payload: batch });
    await h.app.inject('/topics/orders/partitions/1/records?offset=0');

    const response = await h.app.inject('/metrics');
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = response.body;

    expect(sample(text, 'minikafka_records_in_total{topic="orders"}')).toBe(7);
    expect(sample(text, 'minikafka_bytes_in_total{topic="orders"}')).toBeGreaterThan(batch.length);
    expect(sample(text, 'minikafka_records_out_total{topic="orders"}')).toBeGreaterThan(0);
    expect(sample(text, 'minikafka_bytes_out_total{topic="orders"}')).toBeGreaterThan(0);

    expect(sample(text, 'minikafka_log_end_offset{topic="orders",partition="0"}')).toBe(1);
    expect(sample(text, 'minikafka_log_end_offset{topic="orders",partition="1"}')).toBe(6);
    expect(sample(text, 'minikafka_log_start_offset{topic="orders",partition="1"}')).toBe(0);
    // segment.bytes=200 rolls partition 1 after each batch of ~150 bytes.
    expect(sample(text, 'minikafka_log_segments{topic="orders",partition="1"}')).toBe(3);
    expect(sample(text, 'minikafka_log_segments_rolled_total')).toBe(2);
    expect(sample(text, 'minikafka_log_size_bytes{topic="orders",partition="1"}')).toBeGreaterThan(0);

    // flush.messages=1: every append is fsynced before it is acknowledged.
    expect(sample(text, 'minikafka_log_fsync_duration_seconds_count')).toBeGreaterThanOrEqual(4);
    expect(sample(text, 'minikafka_log_recovery_truncations_total')).toBe(0);

    expect(sample(text, 'minikafka_http_request_duration_seconds_count{method="POST",route="/topics/:topic/partitions/:partition",status_code="200"}')).toBe(4);
    expect(sample(text, 'minikafka_http_request_duration_seconds_count{method="GET",route="/topics/:topic/partitions/:partition/records",status_code="200"}')).toBe(1);
    expect(text).not.toContain('route="/topics/orders');
    expect(sample(text, 'minikafka_fetch_purgatory_size')).toBe(0);
    expect(text).toContain('process_cpu_user_seconds_total');
    expect(text).toContain('nodejs_heap_size_used_bytes');
  });

  test('drops a deleted topic\'s partitions from the log gauges', async () => {
    const h = await start();
    await h.app.inject({ method: 'POST', url: '/topics', payload: { name: 'gone' } });
    expect((await h.app.inject('/metrics')).body).toContain('minikafka_log_end_offset{topic="gone",partition="0"}');
    await h.app.inject({ method: 'DELETE', url: '/topics/gone' });
    expect((await h.app.inject('/metrics')).body).not.toContain('minikafka_log_end_offset{topic="gone"');
  });

  test('counts a torn tail cut off during recovery after an unclean stop', async () => {
    const first = await start({ keepDataDir: true });
    await first.app.inject({ method: 'POST', url: '/topics', payload: { name: 't' } });
    await first.app.inject({ method: 'POST', url: '/topics/t/partitions/0', headers: { 'content-type': JSON_V2 }, payload: { records: [{ value: 1 }] } });
    await first.close();
    // A half-written batch after the last good one, and no clean-shutdown marker: a crash mid-append.
    fs.appendFileSync(path.join(first.dataDir, 't-0', '00000000000000000000.log'), Buffer.alloc(30, 0x7f));
    fs.rmSync(path.join(first.dataDir, CLEAN_SHUTDOWN_MARKER), { force: true });

    const second = await start({ dataDir: first.dataDir });
    const text = (await second.app.inject('/metrics')).body;
    expect(sample(text, 'minikafka_log_recovery_truncations_total')).toBe(1);
    expect(sample(text, 'minikafka_log_recovery_truncated_bytes_total')).toBe(30);
    expect(sample(text, 'minikafka_log_end_offset{topic="t",partition="0"}')).toBe(1);
  });
});
