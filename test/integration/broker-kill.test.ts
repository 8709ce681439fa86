/**
 * A broker process killed with SIGKILL while clients produce over HTTP with
 * log.flush.interval.messages=1: after a restart, every acknowledged record is there, at the
 * offset its acknowledgement gave. And `broker start` stops cleanly on SIGTERM.
 */

import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeTempDir } from '../helpers/temp-dir.ts';
import { startBrokerProcess } from '../helpers/broker-process.ts';

interface Acked {
  readonly partition: number;
  readonly offset: number;
  readonly value: string;
}

interface FetchedRecord {
  offset: number;
  value: string;
}

async function produceUntilStopped(url: string, producer: number, acked: Acked[], shouldStop: () => boolean): Promise<void> {
  for (let i = 0; i < 5000 && !shouldStop(); i++) {
    const records = Array.from({ length: 1 + (i % 4) }, (_, r) => ({ key: `p${producer}-k${(i + r) % 7}`, value: `p${producer}-${i}-${r}` }));
    let response: Response;
    try {
      response = await fetch(`${url}/topics/crash?acks=all`, { method: 'POST', headers: { 'content-type': 'application/vnd.kafka.json.v2+json' }, body: JSON.stringify({ records }) });
    } catch {
      return; // the broker is gone: whatever was not answered was not acknowledged
    }
    const body = (await response.json().catch(() => null)) as { offsets?: Array<{ partition: number; offset: number; error_code: number | null }> } | null;
    if (response.status !== 200 || body?.offsets === undefined) return;
    body.offsets.forEach((o, r) => {
      if (o.error_code === null) acked.push({ partition: o.partition, offset: o.offset, value: JSON.stringify(records[r].value) });
    });
  }
}

async function readPartition(url: string, partition: number): Promise<FetchedRecord[]> {
  const out: FetchedRecord[] = [];
  for (let offset = 0; ; ) {
    const response = await fetch(`${url}/topics/crash/partitions/${partition}/records?offset=${offset}&timeout=0&max_bytes=1000000`, { headers: { accept: 'application/vnd.kafka.binary.v2+json' } });
    const records = (await response.json()) as Array<{ offset: number; value: string }>;
    if (records.length === 0) return out;
    for (const r of records) out.push({ offset: r.offset, value: Buffer.from(r.value, 'base64').toString() });
    offset = records.at(-1)!.offset + 1;
  }
}

describe('broker process', () => {
  // kill -9 leaves the page cache alone, so even Kafka's default policy (no fsync on append)
  // keeps acknowledged records; flush.messages=1 is what power loss needs (power-loss.test.ts).
  it.each([
    ['flush.messages=1', ['--config', 'log.flush.interval.messages=1']],
    ['the default flush policy', []],
  ])('keeps every acknowledged record at its acknowledged offset across SIGKILL (%s)', async (_name, flushArgs) => {
    const dataDir = makeTempDir();
    const acked: Acked[] = [];
    const settings = [...flushArgs, '--config', 'num.partitions=3', '--config', 'log.segment.bytes=20000'];
    for (let round = 0; round < 3; round++) {
      const broker = await startBrokerProcess(dataDir, settings);
      const before = acked.length;
      let isKilled = false;
      const target = before + 50 + Math.floor(Math.random() * 300);
      const producers = [0, 1, 2, 3].map((p) => produceUntilStopped(broker.url, round * 10 + p, acked, () => isKilled || acked.length >= target + 2000));
      const deadline = Date.now() + 20_000;
      while (acked.length < target && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 2));
      broker.child.kill('SIGKILL');
      isKilled = true;
      await broker.exited;
      await Promise.all(producers);
      expect(acked.length).toBeGreaterThan(before);
    }
    const broker = await startBrokerProcess(dataDir, settings);
    try {
      for (const partition of [0, 1, 2]) {
        const stored = new Map((await readPartition(broker.url, partition)).map((r) => [r.offset, r.value]));
        for (const a of acked.filter((x) => x.partition === partition)) expect(stored.get(a.offset)).toBe(a.value);
      }
    } finally {
      broker.child.kill('SIGTERM');
      await broker.exited;
    }
  });

  it('keeps every acknowledged offset commit across SIGKILL, replayed from __consumer_offsets', async () => {
    const dataDir = makeTempDir();
    let broker = await startBrokerProcess(dataDir, ['--config', 'num.partitions=2']);
    await fetch(`${broker.url}/topics`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'work', partitions: 2 }) });
    const lastAcked = new Map<number, number>();
    let isKilled = false;
    const committer = (async () => {
      for (let i = 1; i <= 2000 && !isKilled; i++) {
        const partition = i % 2;
        try {
          const response = await fetch(`${broker.url}/groups/workers/offsets`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ generation_id: -1, member_id: '', offsets: [{ topic: 'work', partition, offset: 0, metadata: `commit ${i}` }] }),
          });
          if (response.status === 200) lastAcked.set(partition, i);
        } catch {
          return;
        }
      }
    })();
    while (lastAcked.size < 2 || (lastAcked.get(1) ?? 0) < 50 + Math.floor(Math.random() * 100)) await new Promise((resolve) => setTimeout(resolve, 2));
    broker.child.kill('SIGKILL');
    isKilled = true;
    await broker.exited;
    await committer;
    broker = await startBrokerProcess(dataDir);
    try {
      const response = await fetch(`${broker.url}/groups/workers/offsets`);
      const { offsets } = (await response.json()) as { offsets: Array<{ partition: number; metadata: string }> };
      for (const [partition, i] of lastAcked) {
        // The last acknowledged commit survived; a later one may too, if it was written before the kill.
        const stored = Number(offsets.find((o) => o.partition === partition)!.metadata.split(' ')[1]);
        expect(stored).toBeGreaterThanOrEqual(i);
      }
    } finally {
      broker.child.kill('SIGTERM');
      await broker.exited;
    }
  });

  it('stops cleanly on SIGTERM (exit 0, clean-shutdown marker), and a second broker on the same directory fails at once', async () => {
    const dataDir = makeTempDir();
    const broker = await startBrokerProcess(dataDir);
    expect((await fetch(`${broker.url}/healthz`)).status).toBe(200);
    const second = startBrokerProcess(dataDir);
    await expect(second).rejects.toThrow(/exited with 1/);
    await second.catch((error: Error) => {
      expect(error.message).toContain(dataDir);
      expect(error.message).not.toMatch(/\n\s+at /);
    });
    broker.child.kill('SIGTERM');
    expect(await broker.exited).toBe(0);
    expect(fs.existsSync(path.join(dataDir, '.kafka_cleanshutdown'))).toBe(true);
  });
});
