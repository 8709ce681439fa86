/**
 * The SDK's errors: rebuilt from the broker's one error body (known and unknown codes), a body
 * that is not the broker's, isRetriable(), and docs/sdk.md listing every code the SDK raises.
 */

import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { BrokerError, ClientErrorCode, MiniKafkaClientError, errorFromResponse, isRetriable } from '../../client/errors.ts';

const context = { method: 'GET', path: '/topics/x' };

describe('errorFromResponse()', () => {
  test('rebuilds a BrokerError with the body’s code, message, retriable flag and details, and Kafka’s number', () => {
    const body = { error_code: 50304, message: 'the broker is shutting down', code: 'BROKER_SHUTTING_DOWN', retriable: true, details: { a: 1 } };
    const error = errorFromResponse(503, Buffer.from(JSON.stringify(body)), context);
    expect(error).toBeInstanceOf(BrokerError);
    expect(error).toMatchObject({ code: 'BROKER_SHUTTING_DOWN', message: body.message, retriable: true, errorCode: 50304, httpStatus: 503, kafkaCode: null, details: { a: 1 } });
    const known = errorFromResponse(416, Buffer.from(JSON.stringify({ error_code: 41601, message: 'm', code: 'OFFSET_OUT_OF_RANGE', retriable: false })), context);
    expect(known).toMatchObject({ kafkaCode: 1, details: {} });
  });

  test('keeps a code it does not know (a newer broker) with its retriable flag', () => {
    const error = errorFromResponse(409, Buffer.from(JSON.stringify({ error_code: 40999, message: 'new', code: 'SOMETHING_NEW', retriable: true })), context);
    expect(error).toMatchObject({ code: 'SOMETHING_NEW', retriable: true, kafkaCode: null });
  });

  test('answers UNEXPECTED_RESPONSE for a body that is not the error body, quoting its start', () => {
    const error = errorFromResponse(500, Buffer.from('{"error":"x"}'), context);
    expect(error).toMatchObject({ code: 'UNEXPECTED_RESPONSE', retriable: false, httpStatus: 500 });
    expect(error.message).toMatch(/GET \/topics\/x answered HTTP 500 without minikafka's error body/);
  });
});

describe('isRetriable()', () => {
  test('is true only for a client error that says so', () => {
    expect(isRetriable(new MiniKafkaClientError('CONNECTION_ERROR', 'm', { retriable: true }))).toBe(true);
    expect(isRetriable(new MiniKafkaClientError('INVALID_ARGUMENT', 'm', { retriable: false }))).toBe(false);
    expect(isRetriable(Object.assign(new Error('m'), { retriable: true }))).toBe(false);
  });
});

describe('docs/sdk.md', () => {
  test('lists every code the SDK raises itself in its Errors table', () => {
    const doc = fs.readFileSync(path.join(import.meta.dirname, '..', '..', 'docs', 'sdk.md'), 'utf8');
    const errorsSection = doc.slice(doc.indexOf('## Errors'), doc.indexOf('## Consumer'));
    for (const code of Object.values(ClientErrorCode)) expect(errorsSection, code).toContain(`| \`${code}\``);
  });
});
