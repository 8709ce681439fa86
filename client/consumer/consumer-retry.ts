/**
 * The consumer's retry of one call: again on retriable errors only, with the backoff of
 * client/retry.ts (exponential, capped, ±20 % jitter), at most `retries` more times, and, given
 * a signal, not after it aborted (a consumer that stops does not keep looking things up).
 */

import { setTimeout as sleep } from 'node:timers/promises';
import { isRetriable } from '../errors.ts';
import type { ResolvedRetryOptions } from '../retry.ts';
import { backoffMs } from '../retry.ts';

/** @throws the last error; the signal's reason once it aborted */
export async function retrying<T>(operation: () => Promise<T>, retry: ResolvedRetryOptions, retries: number, signal?: AbortSignal): Promise<T> {
  for (let failures = 0; ; failures++) {
    try {
      return await operation();
    } catch (error) {
      if (signal?.aborted === true) throw signal.reason;
      if (!isRetriable(error) || failures >= retries) throw error;
      await sleep(backoffMs(failures + 1, retry), undefined, { signal }).catch(() => undefined);
    }
  }
}
