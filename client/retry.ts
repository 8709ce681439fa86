/**
 * Retries with exponential backoff and jitter, for errors that say they are retriable and for
 * nothing else (errors.ts): a retry of an error that needs a change first only repeats it.
 *
 * The wait before retry n (1-based) is retryBackoffMs × 2^(n−1), capped at retryBackoffMaxMs,
 * then spread by ±20 % (Kafka's `retry.backoff.ms` / `retry.backoff.max.ms`, KIP-580, whose
 * jitter is 0.2) so that clients that failed together do not all come back at the same instant.
 */

import { setTimeout as sleep } from 'node:timers/promises';
import { InvalidArgumentError, isRetriable } from './errors.ts';

export interface RetryOptions {
  /** Default 5 for admin calls: tries after the first. The producer uses delivery.timeout.ms instead. */
  readonly retries?: number;
  /** Default 100 (Kafka's retry.backoff.ms): the first wait. */
  readonly retryBackoffMs?: number;
  /** Default 1000 (Kafka's retry.backoff.max.ms): no wait is longer. */
  readonly retryBackoffMaxMs?: number;
}

export interface ResolvedRetryOptions {
  readonly retries: number;
  readonly retryBackoffMs: number;
  readonly retryBackoffMaxMs: number;
}

export const defaultRetryOptions: ResolvedRetryOptions = Object.freeze({ retries: 5, retryBackoffMs: 100, retryBackoffMaxMs: 1000 });

const JITTER = 0.2;

export function resolveRetryOptions(options: RetryOptions = {}, defaults: ResolvedRetryOptions = defaultRetryOptions): ResolvedRetryOptions {
  const resolved = {
    retries: options.retries ?? defaults.retries,
    retryBackoffMs: options.retryBackoffMs ?? defaults.retryBackoffMs,
    retryBackoffMaxMs: options.retryBackoffMaxMs ?? defaults.retryBackoffMaxMs,
  };
  if (!(resolved.retries === Number.POSITIVE_INFINITY || (Number.isSafeInteger(resolved.retries) && resolved.retries >= 0))) {
    throw new InvalidArgumentError(`retries must be a whole number ≥ 0 or Infinity, got ${resolved.retries}`, { retries: resolved.retries });
  }
  for (const name of ['retryBackoffMs', 'retryBackoffMaxMs'] as const) {
    if (!Number.isSafeInteger(resolved[name]) || resolved[name] < 0) throw new InvalidArgumentError(`${name} must be a whole number of milliseconds ≥ 0, got ${resolved[name]}`, { [name]: resolved[name] });
  }
  if (resolved.retryBackoffMaxMs < resolved.retryBackoffMs) {
    throw new InvalidArgumentError(`retryBackoffMaxMs (${resolved.retryBackoffMaxMs}) is below retryBackoffMs (${resolved.retryBackoffMs}); raise the maximum or lower the first wait`, resolved);
  }
  return Object.freeze(resolved);
}

/**
 * Milliseconds to wait before retry `attempt` (1 for the first retry).
 * @param random a number in [0, 1), injectable so tests need no luck
 */
export function backoffMs(attempt: number, options: ResolvedRetryOptions, random: number = Math.random()): number {
  const exponential = options.retryBackoffMs * 2 ** Math.min(attempt - 1, 30);
  const capped = Math.min(exponential, options.retryBackoffMaxMs);
  return Math.max(0, Math.round(capped * (1 - JITTER + 2 * JITTER * random)));
}

/**
 * Calls `operation` until it resolves, it fails with an error that is not retriable, or the
 * retries run out; then rejects with the last error (its `retriable` still says whether trying
 * again later can help).
 */
export async function withRetries<T>(operation: (attempt: number) => Promise<T>, options: ResolvedRetryOptions): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await operation(attempt);
    } catch (error) {
      if (!isRetriable(error) || attempt >= options.retries) throw error;
      await sleep(backoffMs(attempt + 1, options));
    }
  }
}
