/**
 * Topic routes through app.inject() against a real BrokerCore in a temporary directory: create,
 * list, describe, delete, alter configs, add partitions and partition metadata, with the catalogue
 * error each refusal must give.
 */

import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import type { HttpHarness } from './http-harness.ts';
import { errorOf, startHarness } from './http-harness.ts';

let h: HttpHarness;
beforeEach(async () => {
  h = await startHarness();
});
afterEach(async () => {
  await h.close();
});

async function createTopic(body: unknown) {
  return h.app.inject({ method: 'POST', url: '/topics', payload: body as object });
}

describe('POST /topics', () => {
  test('creates a topic and answers 201 with its description', async () => {
    const response = await createTopic({ name: 'orders', partitions: 3, replication_factor: 1, configs: { 'retention.ms': 60_000, 'cleanup.policy': 'delete' } });
    expect(response.statusCode).toBe(201);
    const body = response.json();
    expect(body).toMatchObject({ name: 'orders', is_internal: false, partitions_count: 3 });
    expect(body.topic_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(body.partitions.map((p: { partition: number }) => p.partition)).toEqual([0, 1, 2]);
    expect(body.partitions[0]).toMatchObject({ leader: 0, log_start_offset: 0, high_watermark: 0, replicas: [{ broker: 0, leader: true, in_sync: true }] });
    expect(body.partitions[0].segments).toEqual([{ base_offset: 0, next_offset: 0, size_bytes: 0, max_timestamp: -1 }]);
    const retention = body.configs.find((c: { name: string }) => c.name === 'retention.ms');
    expect(retention).toEqual({ name: 'retention.ms', value: '60000', source: 'DYNAMIC_TOPIC_CONFIG' });
    expect(body.configs.find((c: { name: string }) => c.name === 'segment.bytes').source).toBe('DEFAULT_CONFIG');
  });

  test('takes REST v3 spellings: topic_name, partitions_count, configs as [{ name, value }]', async () => {
    const response = await createTopic({ topic_name: 'v3', partitions_count: 2, configs: [{ name: 'retention.bytes', value: '1024' }] });
    expect(response.statusCode).toBe(201);
    expect(response.json().partitions_count).toBe(2);
    expect(response.json().configs.find((c: { name: string }) => c.name === 'retention.bytes').value).toBe('1024');
  });

  test('uses num.partitions when no count is given, or -1', async () => {
    expect((await createTopic({ name: 'a' })).json().partitions_count).toBe(1);
    expect((await createTopic({ name: 'b', partitions: -1 })).json().partitions_count).toBe(1);
  });

  test('with validate_only checks everything and creates nothing', async () => {
    const response = await createTopic({ name: 'dry', partitions: 2, validate_only: true });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ name: 'dry', validate_only: true });
    expect(h.core.topics.list()).toEqual([]);
    expect(errorOf(await createTopic({ name: 'dry', configs: { 'retention.ms': 'soon' }, validate_only: true })).code).toBe('INVALID_CONFIG');
  });

  test('refuses an existing name with TOPIC_ALREADY_EXISTS (409)', async () => {
    await createTopic({ name: 'orders' });
    const response = await createTopic({ name: 'orders' });
    expect(response.statusCode).toBe(409);
    expect(errorOf(response)).toMatchObject({ code: 'TOPIC_ALREADY_EXISTS', error_code: 40901, retriable: false });
  });

  test.each([
    [{ name: '../etc' }, 400, 'INVALID_TOPIC_EXCEPTION'],
    [{ name: '..' }, 400, 'INVALID_TOPIC_EXCEPTION'],
    [{ name: 'x'.repeat(250) }, 400, 'INVALID_TOPIC_EXCEPTION'],
    [{ name: 'ok', partitions: 0 }, 400, 'INVALID_PARTITIONS'],
    [{ name: 'ok', partitions: 1e12 }, 400, 'INVALID_PARTITIONS'],
    [{ name: 'ok', replication_factor: 3 }, 400, 'INVALID_REPLICATION_FACTOR'],
    [{ name: 'ok', configs: { 'no.such.config': '1' } }, 400, 'INVALID_CONFIG'],
    [{ name: 'ok', configs: { 'retention.ms': 'forever' } }, 400, 'INVALID_CONFIG'],
    [{ partitions: 1 }, 400, 'INVALID_REQUEST'],
    [{ name: 'a', topic_name: 'b' }, 400, 'INVALID_REQUEST'],
    [{ name: { first: 'a' } }, 400, 'INVALID_REQUEST'],
    [{ name: 'ok', partitions: 1.5 }, 400, 'INVALID_REQUEST'],
    [{ name: 'ok', configs: 'retention.ms=1' }, 400, 'INVALID_REQUEST'],
  ])('refuses %j with %i %s', async (body, status, code) => {
    const response = await createTopic(body);
    expect(response.statusCode).toBe(status);
    expect(errorOf(response).code).toBe(code);
    expect(h.core.topics.list()).toEqual([]);
  });
});

describe('GET /topics', () => {
  test('lists topic names, as REST Proxy v2 does', async () => {
    expect((await h.app.inject('/topics')).json()).toEqual([]);
    await createTopic({ name: 'b' });
    await createTopic({ name: 'a' });
    expect((await h.app.inject('/topics')).json().sort()).toEqual(['a', 'b']);
  });
});

describe('GET /topics/:topic', () => {
  test('describes partitions with offsets and segments after appends', async () => {
    await createTopic({ name: 'orders', partitions: 2 });
    await h.app.inject({ method: 'POST', url: '/topics/orders/partitions/1', payload: { records: [{ value: 1 }, { value: 2 }] } });
    const body = (await h.app.inject('/topics/orders')).json();
    expect(body.partitions[1]).toMatchObject({ log_start_offset: 0, high_watermark: 2 });
    expect(body.partitions[1].segments).toHaveLength(1);
    expect(body.partitions[1].segments[0]).toMatchObject({ base_offset: 0, next_offset: 2 });
    expect(body.partitions[1].segments[0].size_bytes).toBeGreaterThan(61);
    expect(body.partitions[1].size_bytes).toBe(body.partitions[1].segments[0].size_bytes);
  });

  test('answers UNKNOWN_TOPIC_OR_PARTITION (404, 40401) for a missing topic', async () => {
    const response = await h.app.inject('/topics/missing');
    expect(response.statusCode).toBe(404);
    expect(errorOf(response)).toMatchObject({ code: 'UNKNOWN_TOPIC_OR_PARTITION', error_code: 40401, details: { topic: 'missing' } });
  });
});

describe('DELETE /topics/:topic', () => {
  test('deletes the topic and answers 204; a second delete is 404', async () => {
    await createTopic({ name: 'gone' });
    const response = await h.app.inject({ method: 'DELETE', url: '/topics/gone' });
    expect(response.statusCode).toBe(204);
    expect(response.body).toBe('');
    expect(h.core.topics.list()).toEqual([]);
    expect((await h.app.inject({ method: 'DELETE', url: '/topics/gone' })).statusCode).toBe(404);
  });
});

describe('PUT /topics/:topic/configs', () => {
  test('sets overrides and removes them with null', async () => {
    await createTopic({ name: 't', configs: { 'retention.ms': '1000' } });
    const set = await h.app.inject({ method: 'PUT', url: '/topics/t/configs', payload: { configs: { 'retention.bytes': 4096, 'retention.ms': null } } });
    expect(set.statusCode).toBe(200);
    const configs = set.json().configs as Array<{ name: string; value: string; source: string }>;
    expect(configs.find((c) => c.name === 'retention.bytes')).toMatchObject({ value: '4096', source: 'DYNAMIC_TOPIC_CONFIG' });
    expect(configs.find((c) => c.name === 'retention.ms')?.source).toBe('DEFAULT_CONFIG');
  });

  test('refuses unknown names and bad values with INVALID_CONFIG, and a body without configs with INVALID_REQUEST', async () => {
    await createTopic({ name: 't' });
    expect(errorOf(await h.app.inject({ method: 'PUT', url: '/topics/t/configs', payload: { configs: { 'segment.bytes': -5 } } })).code).toBe('INVALID_CONFIG');
    expect(errorOf(await h.app.inject({ method: 'PUT', url: '/topics/t/configs', payload: { 'retention.ms': 5 } })).code).toBe('INVALID_REQUEST');
    expect(errorOf(await h.app.inject({ method: 'PUT', url: '/topics/nope/configs', payload: { configs: {} } })).code).toBe('UNKNOWN_TOPIC_OR_PARTITION');
  });
});

describe('POST /topics/:topic/partitions', () => {
  test('grows the topic to the total count given', async () => {
    await createTopic({ name: 't', partitions: 1 });
    const response = await h.app.inject({ method: 'POST', url: '/topics/t/partitions', payload: { count: 4 } });
    expect(response.statusCode).toBe(200);
    expect(response.json().partitions_count).toBe(4);
    expect(h.core.topics.partitionCount('t')).toBe(4);
  });

  test('refuses a count that does not grow the topic with INVALID_PARTITIONS', async () => {
    await createTopic({ name: 't', partitions: 2 });
    const response = await h.app.inject({ method: 'POST', url: '/topics/t/partitions', payload: { count: 2 } });
    expect(response.statusCode).toBe(400);
    expect(errorOf(response)).toMatchObject({ code: 'INVALID_PARTITIONS', details: { partitions: 2, requested: 2 } });
    expect(errorOf(await h.app.inject({ method: 'POST', url: '/topics/t/partitions', payload: { total: 3 } })).code).toBe('INVALID_REQUEST');
  });
});

describe('GET /topics/:topic/partitions[/:partition]', () => {
  test('lists partitions with leader, log start offset and high watermark', async () => {
    await createTopic({ name: 't', partitions: 2 });
    await h.app.inject({ method: 'POST', url: '/topics/t/partitions/0', payload: { records: [{ value: 'a' }] } });
    const list = (await h.app.inject('/topics/t/partitions')).json();
    expect(list).toEqual([
      { partition: 0, leader: 0, replicas: [{ broker: 0, leader: true, in_sync: true }], log_start_offset: 0, high_watermark: 1 },
      { partition: 1, leader: 0, replicas: [{ broker: 0, leader: true, in_sync: true }], log_start_offset: 0, high_watermark: 0 },
    ]);
    expect((await h.app.inject('/topics/t/partitions/0')).json()).toEqual(list[0]);
  });

  test('answers 404 for a partition the topic lacks and 400 for one that is not a partition number', async () => {
    await createTopic({ name: 't', partitions: 2 });
    const missing = await h.app.inject('/topics/t/partitions/2');
    expect(missing.statusCode).toBe(404);
    expect(errorOf(missing).message).toContain('partitions 0 to 1');
    for (const bad of ['-1', '1.5', 'x', '99999999999', '2147483648']) {
      const response = await h.app.inject(`/topics/t/partitions/${bad}`);
      expect(response.statusCode, bad).toBe(400);
      expect(errorOf(response).code, bad).toBe('INVALID_REQUEST');
    }
  });
});
