/**
 * The one error body for errors raised by fastify itself (parsers, router, schemas) and by bugs:
 * each maps onto its catalogue code, status and REST code; a bug's details stay in the log.
 */

import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { errorCatalogue } from '../../../common/errors.ts';
import { buildHttpApp } from '../../../broker/http/app.ts';
import type { HttpHarness } from './http-harness.ts';
import { errorOf, startHarness } from './http-harness.ts';

let h: HttpHarness;
beforeEach(async () => {
  h = await startHarness();
  await h.app.inject({ method: 'POST', url: '/topics', payload: { name: 't' } });
});
afterEach(async () => {
  await h.close();
});

/** Asserts the one error body: the catalogue's status, REST code and retriable flag for `code`. */
function expectCatalogueError(response: { statusCode: number; body: string }, code: keyof typeof errorCatalogue) {
  const body = errorOf(response);
  const spec = errorCatalogue[code];
  expect(body.code).toBe(code);
  expect(response.statusCode).toBe(spec.httpStatus);
  expect(body.error_code).toBe(spec.restCode);
  expect(body.retriable).toBe(spec.retriable);
  return body;
}

describe('the one error body', () => {
  test('a body that is not JSON is INVALID_REQUEST', async () => {
    const response = await h.app.inject({ method: 'POST', url: '/topics', headers: { 'content-type': 'application/json' }, payload: '{"name": ' });
    expectCatalogueError(response, 'INVALID_REQUEST');
  });

  test('an empty JSON body is INVALID_REQUEST', async () => {
    expectCatalogueError(await h.app.inject({ method: 'POST', url: '/topics', headers: { 'content-type': 'application/json' }, payload: '' }), 'INVALID_REQUEST');
  });

  test('a __proto__ key is refused as INVALID_REQUEST, in JSON and in the Kafka JSON media types', async () => {
    for (const contentType of ['application/json', 'application/vnd.kafka.json.v2+json']) {
      const response = await h.app.inject({ method: 'POST', url: '/topics/t', headers: { 'content-type': contentType }, payload: '{"records":[{"value":1}],"__proto__":{"polluted":true}}' });
      expectCatalogueError(response, 'INVALID_REQUEST');
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  test('a body without a Content-Type is UNSUPPORTED_CONTENT_TYPE', async () => {
    const response = await h.app.inject({ method: 'POST', url: '/topics', payload: Buffer.from('{"name":"x"}') });
    expectCatalogueError(response, 'UNSUPPORTED_CONTENT_TYPE');
  });

  test('a media type no route takes is UNSUPPORTED_CONTENT_TYPE', async () => {
    expectCatalogueError(await h.app.inject({ method: 'PUT', url: '/topics/t/configs', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: 'a=b' }), 'UNSUPPORTED_CONTENT_TYPE');
  });

  test('an unknown path or method is ROUTE_NOT_FOUND', async () => {
    expectCatalogueError(await h.app.inject('/nowhere'), 'ROUTE_NOT_FOUND');
    expectCatalogueError(await h.app.inject({ method: 'POST', url: '/brokers' }), 'ROUTE_NOT_FOUND');
    expectCatalogueError(await h.app.inject({ method: 'PATCH', url: '/topics/t' }), 'ROUTE_NOT_FOUND');
    expectCatalogueError(await h.app.inject('/topics/t/partitions/0/records/extra'), 'ROUTE_NOT_FOUND');
  });

  test('a badly percent-encoded path is INVALID_REQUEST', async () => {
    expectCatalogueError(await h.app.inject('/topics/%E0%A4%A'), 'INVALID_REQUEST');
  });

  test('a topic name with path tricks never reaches the disk: 404 to read, INVALID_TOPIC_EXCEPTION to create', async () => {
    expectCatalogueError(await h.app.inject('/topics/..%2F..%2Fetc'), 'UNKNOWN_TOPIC_OR_PARTITION');
    const produced = await h.app.inject({ method: 'POST', url: '/topics/..%2F..%2Fetc', headers: { 'content-type': 'application/json' }, payload: { records: [{ value: 1 }] } });
    expectCatalogueError(produced, 'INVALID_TOPIC_EXCEPTION');
  });

  test('an unexpected failure is UNKNOWN_SERVER_ERROR (500): logged with its stack, never shown to the client', async () => {
    const lines: string[] = [];
    const logger = pino({ level: 'info' }, new Writable({ write(chunk, _encoding, done) { lines.push(String(chunk)); done(); } }));
    const app = buildHttpApp(h.core, { logger });
    app.get('/boom', async () => {
      throw new Error('secret detail from /var/lib/minikafka');
    });
    const response = await app.inject('/boom');
    await app.close();
    const body = expectCatalogueError(response, 'UNKNOWN_SERVER_ERROR');
    expect(response.body).not.toContain('secret');
    expect(body.message).toContain('log');
    const logged = lines.map((line) => JSON.parse(line)).find((entry) => entry.msg === 'request failed with an unexpected error');
    expect(logged.err.message).toBe('secret detail from /var/lib/minikafka');
    expect(logged.err.stack).toContain('errors.test.ts');
    // Lifecycle only: no line was written for the requests that succeeded.
    expect(lines).toHaveLength(1);
  });
});
