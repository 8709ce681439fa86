/**
 * A promise with its resolve and reject functions outside it (Promise.withResolvers, which
 * Node 20 lacks). The coordinator parks JoinGroup and SyncGroup calls on these and settles them
 * when the rebalance moves on. Settling twice is a bug: assert.
 */

import assert from 'node:assert';

export interface Deferred<T> {
  readonly promise: Promise<T>;
  readonly isSettled: boolean;
  resolve(value: T): void;
  reject(error: Error): void;
}

export function createDeferred<T>(): Deferred<T> {
  let resolvePromise!: (value: T) => void;
  let rejectPromise!: (error: Error) => void;
  const promise = new Promise<T>((resolve, reject) => {
    resolvePromise = resolve;
    rejectPromise = reject;
  });
  let isSettled = false;
  return {
    promise,
    get isSettled() {
      return isSettled;
    },
    resolve(value) {
      assert(!isSettled, 'a parked group request was answered twice');
      isSettled = true;
      resolvePromise(value);
    },
    reject(error) {
      assert(!isSettled, 'a parked group request was answered twice');
      isSettled = true;
      rejectPromise(error);
    },
  };
}
