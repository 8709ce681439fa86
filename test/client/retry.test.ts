/**
 * Backoff and retries: the wait doubles from retryBackoffMs up to retryBackoffMaxMs within ±20 %
 * jitter; withRetries retries only retriable errors, at most `retries` times.
 */

import { describe, expect, test } from 'vitest';
import { InvalidArgumentError, MiniKafkaClientError } from '../../client/errors.ts';
import { backoffMs, resolveRetryOptions, withRetries } from '../../client/retry.ts';

const options = resolveRetryOptions({ retries: 3, retryBackoffMs: 100, retryBackoffMaxMs: 1000 });

describe('backoffMs()', () => {
  test('doubles from retryBackoffMs, stops at retryBackoffMaxMs, and spreads each wait by ±20 %', () => {
    expect([1, 2, 3, 4, 5, 6].map((attempt) => backoffMs(attempt, options, 0.5))).toEqual([100, 200, 400, 800, 1000, 1000]);
    expect(backoffMs(1, options, 0)).toBe(80);
    expect(backoffMs(1, options, 0.999999)).toBe(120);
    expect(backoffMs(50, options, 0)).toBe(800);
  });
});

describe('withRetries()', () => {
  const retriable = new MiniKafkaClientError('CONNECTION_ERROR', 'reset', { retriable: true });
  const fast = resolveRetryOptions({ retries: 3, retryBackoffMs: 1, retryBackoffMaxMs: 2 });

  test('retries a retriable error until the operation succeeds', async () => {
    let calls = 0;
    expect(await withRetries(async () => (++calls < 3 ? Promise.reject(retriable) : 'ok'), fast)).toBe('ok');
    expect(calls).toBe(3);
  });

  test('gives up after `retries` retries with the last error', async () => {
    let calls = 0;
    await expect(withRetries(async () => { calls++; throw retriable; }, fast)).rejects.toBe(retriable);
    expect(calls).toBe(4);
  });

  test('does not retry an error that is not retriable, nor a plain Error', async () => {
    let calls = 0;
    const fatal = new MiniKafkaClientError('INVALID_CONFIG', 'bad', { retriable: false });
    await expect(withRetries(async () => { calls++; throw fatal; }, fast)).rejects.toBe(fatal);
    await expect(withRetries(async () => { calls++; throw new TypeError('bug'); }, fast)).rejects.toBeInstanceOf(TypeError);
    expect(calls).toBe(2);
  });

  test('resolveRetryOptions() refuses a maximum below the first wait', () => {
    expect(() => resolveRetryOptions({ retryBackoffMs: 500, retryBackoffMaxMs: 100 })).toThrow(InvalidArgumentError);
  });
});
