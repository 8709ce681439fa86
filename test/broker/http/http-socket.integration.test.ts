/**
 * The HTTP API on a real listening socket (127.0.0.1, port 0): what inject() cannot show —
 * clients that disconnect, connection limits, requests Node cannot parse.
 */

import http from 'node:http';
import net from 'node:net';
import { afterEach, describe, expect, test } from 'vitest';
import { decodeRecordBatch, encodeRecordBatch, iterateRecordBatches } from '../../../common/record-batch.ts';
import type { HarnessOptions, HttpHarness } from './http-harness.ts';
import { JSON_V2, RECORD_BATCH, errorOf, eventually, purgatorySize, startHarness } from './http-harness.ts';

let h: HttpHarness;
let baseUrl: string;
const openSockets: net.Socket[] = [];

async function start(options: HarnessOptions = {}): Promise<void> {
  h = await startHarness(options);
  baseUrl = await h.listen();
}
afterEach(async () => {
  for (const socket of openSockets.splice(0)) socket.destroy();
  await h.close();
});

function connect(): Promise<net.Socket> {
  const { port } = h.app.server.address() as net.AddressInfo;
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => resolve(socket));
    socket.once('error', reject);
    openSockets.push(socket);
  });
}

/** Writes raw bytes on a fresh connection and collects what comes back until the server closes it. */
async function rawExchange(request: string | Buffer): Promise<string> {
  const socket = await connect();
  const chunks: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  socket.write(request);
  await closed;
  return Buffer.concat(chunks).toString('utf8');
}

/** One request on its own new connection (no pooling), so the connection count is known. */
function requestOnNewConnection(path: string): Promise<{ statusCode: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const request = http.get(`${baseUrl}${path}`, { agent: false }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ statusCode: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
    request.on('error', reject);
  });
}

async function createTopic(name: string): Promise<void> {
  const response = await fetch(`${baseUrl}/topics`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name }) });
  expect(response.status).toBe(201);
}

describe('the HTTP API on a real socket', () => {
  test('a JSON produce and fetch round trip over fetch()', async () => {
    await start();
    const produced = await fetch(`${baseUrl}/topics/live`, { method: 'POST', headers: { 'content-type': JSON_V2 }, body: JSON.stringify({ records: [{ key: 'k', value: { n: 1 } }] }) });
    expect(produced.status).toBe(200);
    const fetched = await fetch(`${baseUrl}/topics/live/partitions/0/records?offset=0`, { headers: { accept: JSON_V2 } });
    expect(((await fetched.json()) as Array<{ value: unknown }>).map((r) => r.value)).toEqual([{ n: 1 }]);
  });

  test('a long poll ends when its client disconnects', async () => {
    await start();
    await createTopic('t');
    const request = http.get(`${baseUrl}/topics/t/partitions/0/records?offset=0&timeout=10000`, { agent: false });
    request.on('error', () => undefined);
    await eventually(async () => (await purgatorySize(h)) === 1, 'the fetch to wait');
    request.destroy();
    await eventually(async () => (await purgatorySize(h)) === 0, 'the wait to end after the disconnect');
    const health = await fetch(`${baseUrl}/healthz`);
    expect(health.status).toBe(200);
  });

  test('idempotent retries across a dropped connection give no duplicates', async () => {
    await start();
    await createTopic('t');
    const { producer_id: producerId, producer_epoch: producerEpoch } = (await (await fetch(`${baseUrl}/producers`, { method: 'POST' })).json()) as { producer_id: number; producer_epoch: number };
    const batch = encodeRecordBatch({ records: [{ value: 'once' }, { value: 'only' }], producerId, producerEpoch, baseSequence: 0 });
    // The request arrives and is appended, but the connection drops before the answer is read.
    const first = http.request(`${baseUrl}/topics/t/partitions/0`, { method: 'POST', agent: false, headers: { 'content-type': RECORD_BATCH, 'content-length': batch.length } });
    first.on('error', () => undefined);
    first.end(batch);
    await eventually(() => h.core.offsets('t', 0).highWatermark === 2, 'the first attempt to be appended');
    first.destroy();

    // The producer cannot know, so it sends the same batch again.
    const retry = await fetch(`${baseUrl}/topics/t/partitions/0`, { method: 'POST', headers: { 'content-type': RECORD_BATCH }, body: new Uint8Array(batch) });
    expect(await retry.json()).toEqual({ partition: 0, base_offset: 0, log_append_time: -1, log_start_offset: 0, duplicate: true });

    const stored = Buffer.from(await (await fetch(`${baseUrl}/topics/t/partitions/0/records?offset=0`, { headers: { accept: RECORD_BATCH } })).arrayBuffer());
    expect([...iterateRecordBatches(stored)].map(({ header }) => [header.baseOffset, header.recordCount])).toEqual([[0, 2]]);
  });

  test('fetch answers read into pooled buffers arrive intact while slow readers hold them and other fetches reuse the pool', async () => {
    await start();
    await createTopic('pooled');
    // 96 batches of about 128 KiB (12 MiB), each record's value naming its offset.
    const value = (offset: number): string => `record-${offset}-`.padEnd(1000, 'x');
    for (let b = 0; b < 96; b++) {
      const batch = encodeRecordBatch({ records: Array.from({ length: 128 }, (_, i) => ({ value: value(b * 128 + i) })) });
      const response = await fetch(`${baseUrl}/topics/pooled/partitions/0`, { method: 'POST', headers: { 'content-type': RECORD_BATCH }, body: new Uint8Array(batch) });
      expect(response.status).toBe(200);
    }
    // Fetches of up to 12 MiB started a few milliseconds apart, each answer read only after a pause,
    // so its bytes wait in the socket (more than the kernel's socket buffers hold, 4 MiB at most here) while later fetches read into
    // the pool: a buffer given back before its answer was out would be overwritten under it.
    const fetchSlowly = (offset: number): Promise<Buffer> => new Promise((resolve, reject) => {
      const request = http.get(`${baseUrl}/topics/pooled/partitions/0/records?offset=${offset}&max_bytes=12582912`, { agent: false, headers: { accept: RECORD_BATCH } }, (response) => {
        response.pause();
        const chunks: Buffer[] = [];
        setTimeout(() => {
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('end', () => resolve(Buffer.concat(chunks)));
          response.resume();
        }, 60);
      });
      request.on('error', reject);
    });
    for (let round = 0; round < 2; round++) {
      const offsets = Array.from({ length: 8 }, (_, i) => ((round * 8 + i) * 677) % (32 * 128));
      const pending: Array<Promise<Buffer>> = [];
      for (const offset of offsets) {
        pending.push(fetchSlowly(offset));
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      const answers = await Promise.all(pending);
      answers.forEach((answer, i) => {
        const records = [...iterateRecordBatches(answer)].flatMap(({ position }) => decodeRecordBatch(answer, position).records);
        expect(records.length).toBeGreaterThan(0);
        expect(records.some((record) => record.offset === offsets[i])).toBe(true);
        for (const record of records) expect(record.value!.toString()).toBe(value(record.offset));
      });
    }
  });

  test('connections over minikafka.http.max.connections are answered TOO_MANY_CONNECTIONS and closed', async () => {
    await start({ limits: { maxConnections: 2 } });
    await connect();
    const second = await connect();
    const refused = await requestOnNewConnection('/healthz');
    expect(refused.statusCode).toBe(503);
    expect(refused.headers.connection).toBe('close');
    expect(errorOf(refused)).toMatchObject({ code: 'TOO_MANY_CONNECTIONS', error_code: 50303, retriable: true, details: { limit: 'minikafka.http.max.connections', maxConnections: 2 } });
    second.destroy();
    await eventually(async () => (await requestOnNewConnection('/healthz')).statusCode === 200, 'a connection to be served again');
  });

  test('a request Node cannot parse is answered with the one error body and the connection closed', async () => {
    await start();
    const answer = await rawExchange('HELLO THERE\r\n\r\n');
    expect(answer).toMatch(/^HTTP\/1\.1 400 /);
    const body = JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4));
    expect(body).toMatchObject({ code: 'INVALID_REQUEST', error_code: 40008 });
  });

  test('request headers over Node\'s limit are REQUEST_TOO_LARGE', async () => {
    await start();
    const answer = await rawExchange(`GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
    expect(answer).toMatch(/^HTTP\/1\.1 413 /);
    expect(answer).toContain('"code":"REQUEST_TOO_LARGE"');
  });

  test('a body cut short of its Content-Length is not appended', async () => {
    await start();
    await createTopic('t');
    const batch = encodeRecordBatch({ records: [{ value: 'whole' }] });
    const socket = await connect();
    socket.write(`POST /topics/t/partitions/0 HTTP/1.1\r\nHost: x\r\nContent-Type: ${RECORD_BATCH}\r\nContent-Length: ${batch.length}\r\n\r\n`);
    socket.write(batch.subarray(0, 30));
    socket.destroy();
    const health = await fetch(`${baseUrl}/healthz`);
    expect(health.status).toBe(200);
    expect(h.core.offsets('t', 0).highWatermark).toBe(0);
  });
});
