/**
 * Transport against real sockets: the broker's error body rebuilt as the same error, a body that
 * is not the broker's, a refused connection, a server that never answers (the request's own
 * timeout), a caller's abort, and requests on a closed transport.
 */

import http from 'node:http';
import net from 'node:net';
import { afterEach, describe, expect, test } from 'vitest';
import type { RunningBroker } from '../../broker/broker.ts';
import { BrokerError, ClientClosedError, ConnectionError, InvalidArgumentError, RequestTimeoutError } from '../../client/errors.ts';
import { Transport, parseBaseUrl } from '../../client/transport.ts';
import { startTestBroker } from './client-harness.ts';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function transportTo(url: string, requestTimeoutMs = 5000): Transport {
  const transport = new Transport({ url, clientId: 'transport-test', requestTimeoutMs });
  cleanups.push(() => transport.destroy());
  return transport;
}

async function listen(server: net.Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
}

describe('Transport', () => {
  test('rebuilds the broker error body as a BrokerError with the same code, message, retriable flag and details', async () => {
    const broker: RunningBroker = await startTestBroker();
    cleanups.push(() => broker.close());
    const body = await (await fetch(`${broker.url}/topics/nope/partitions/0/records?offset=0`)).json();
    const error = await transportTo(broker.url).request({ method: 'GET', path: '/topics/nope/partitions/0/records?offset=0' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BrokerError);
    expect(error).toMatchObject({ code: body.code, message: body.message, retriable: body.retriable, errorCode: body.error_code, httpStatus: 404, kafkaCode: 3, details: body.details });
  });

  test('answers JSON, and undefined for an empty 204 body', async () => {
    const broker = await startTestBroker();
    cleanups.push(() => broker.close());
    const transport = transportTo(broker.url);
    expect(await transport.requestJson({ method: 'GET', path: '/healthz' })).toEqual({ status: 'ok' });
    await transport.request({ method: 'POST', path: '/topics', body: '{"name":"t"}', contentType: 'application/json' });
    expect(await transport.requestJson({ method: 'DELETE', path: '/topics/t' })).toBeUndefined();
  });

  test('reports an error page that is not the broker’s as UNEXPECTED_RESPONSE, retriable for 502–504 only', async () => {
    let status = 502;
    const url = await listen(http.createServer((_request, response) => response.writeHead(status, { 'content-type': 'text/html' }).end('<h1>Bad gateway</h1>')));
    const transport = transportTo(url);
    await expect(transport.request({ method: 'GET', path: '/topics' })).rejects.toMatchObject({ code: 'UNEXPECTED_RESPONSE', retriable: true, httpStatus: 502 });
    status = 404;
    await expect(transport.request({ method: 'GET', path: '/topics' })).rejects.toMatchObject({ code: 'UNEXPECTED_RESPONSE', retriable: false, httpStatus: 404 });
  });

  test('reports a refused connection as a retriable ConnectionError', async () => {
    const server = net.createServer();
    const url = await listen(server);
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const error = await transportTo(url).request({ method: 'GET', path: '/healthz' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConnectionError);
    expect(error).toMatchObject({ code: 'CONNECTION_ERROR', retriable: true, details: { systemCode: 'ECONNREFUSED' } });
  });

  test('gives up on a server that never answers after the request timeout, with a retriable RequestTimeoutError', async () => {
    const url = await listen(net.createServer((socket) => socket.on('data', () => undefined)));
    const transport = transportTo(url, 5000);
    const error = await transport.request({ method: 'GET', path: '/healthz', timeoutMs: 100 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RequestTimeoutError);
    expect(error).toMatchObject({ code: 'REQUEST_TIMED_OUT', retriable: true, kafkaCode: 7, details: { timeoutMs: 100, path: '/healthz' } });
  });

  test("rejects with the caller's abort reason when its signal aborts", async () => {
    const url = await listen(net.createServer((socket) => socket.on('data', () => undefined)));
    const controller = new AbortController();
    const request = transportTo(url).request({ method: 'GET', path: '/healthz', signal: controller.signal }).catch((e: unknown) => e);
    const reason = new Error('consumer closing');
    controller.abort(reason);
    expect(await request).toBe(reason);
  });

  test('a request still waiting for a connection times out or is aborted in place, and is never sent afterwards', async () => {
    const requests: string[] = [];
    const held: http.ServerResponse[] = [];
    const server = http.createServer((request, response) => {
      requests.push(request.url ?? '');
      if (request.url === '/hold') held.push(response);
      else response.end('ok');
    });
    const url = await listen(server);
    cleanups.unshift(() => void held.forEach((response) => response.end()));
    const transport = new Transport({ url, clientId: 'transport-test', maxConnections: 1 });
    cleanups.push(() => transport.destroy());
    // The only connection is taken by a request the server holds; the next two wait in the pool's queue.
    const holding = transport.request({ method: 'GET', path: '/hold', timeoutMs: 10_000 });
    await waitUntil(() => requests.length === 1);
    const timedOut = transport.request({ method: 'GET', path: '/queued-timeout', timeoutMs: 50 }).catch((e: unknown) => e);
    const controller = new AbortController();
    const aborted = transport.request({ method: 'GET', path: '/queued-abort', signal: controller.signal }).catch((e: unknown) => e);
    const reason = new Error('consumer closing');
    controller.abort(reason);
    expect(await timedOut).toBeInstanceOf(RequestTimeoutError);
    expect(await aborted).toBe(reason);
    // Once the connection is free, the requests given up on do not go out; a new one does.
    held.forEach((response) => response.end('done'));
    expect((await holding).body.toString()).toBe('done');
    expect((await transport.request({ method: 'GET', path: '/after' })).body.toString()).toBe('ok');
    expect(requests).toEqual(['/hold', '/after']);
  });

  test('refuses requests after destroy() with CLIENT_CLOSED, which is not retriable', async () => {
    const broker = await startTestBroker();
    cleanups.push(() => broker.close());
    const transport = transportTo(broker.url);
    await transport.destroy();
    const error = await transport.request({ method: 'GET', path: '/healthz' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ClientClosedError);
    expect(error).toMatchObject({ retriable: false });
  });

  test('parseBaseUrl() takes a URL or host:port and refuses other schemes', () => {
    expect(parseBaseUrl('127.0.0.1:8082').href).toBe('http://127.0.0.1:8082/');
    expect(parseBaseUrl('https://kafka.example/prefix').pathname).toBe('/prefix');
    expect(() => parseBaseUrl('ftp://x')).toThrow(InvalidArgumentError);
    expect(() => parseBaseUrl('http://x:1/?a=b')).toThrow(/query or fragment/);
  });
});

async function waitUntil(condition: () => boolean): Promise<void> {
  for (let attempt = 0; attempt < 500 && !condition(); attempt++) await new Promise((resolve) => setTimeout(resolve, 5));
  expect(condition()).toBe(true);
}
