/**
 * GroupCommit: callers waiting for durability share fsync rounds, never more than one runs at a
 * time, and each caller's round starts after it asked.
 */

import { describe, expect, it } from 'vitest';
import { GroupCommit } from '../../../broker/storage/group-commit.ts';

function controlledRounds(): { commit: GroupCommit; started: number[]; finish: () => void; inFlight: () => number; maxInFlight: () => number } {
  let running = 0;
  let maxRunning = 0;
  const started: number[] = [];
  const pending: Array<() => void> = [];
  let asked = 0;
  const commit = new GroupCommit(
    () =>
      new Promise<void>((resolve) => {
        running += 1;
        maxRunning = Math.max(maxRunning, running);
        started.push(asked);
        pending.push(() => {
          running -= 1;
          resolve();
        });
      }),
  );
  const original = commit.request.bind(commit);
  commit.request = () => {
    asked += 1;
    return original();
  };
  return { commit, started, finish: () => pending.shift()?.(), inFlight: () => running, maxInFlight: () => maxRunning };
}

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('GroupCommit', () => {
  it('lets every request of one turn share a round, and queues later ones for exactly one next round', async () => {
    const { commit, started, finish, maxInFlight } = controlledRounds();
    const first = Array.from({ length: 10 }, () => commit.request());
    await tick();
    expect(started).toEqual([10]);
    const second = Array.from({ length: 7 }, () => commit.request());
    finish();
    await Promise.all(first);
    await tick();
    expect(started).toEqual([10, 17]);
    // A request made while the second round runs joins the third round, not a parallel one.
    const third = commit.request();
    finish();
    await Promise.all(second);
    await tick();
    finish();
    await third;
    expect(started).toHaveLength(3);
    expect(maxInFlight()).toBe(1);
    expect(commit.isIdle).toBe(true);
  });

  it('rejects the callers of a failed round and serves the next one', async () => {
    let fail = true;
    const commit = new GroupCommit(async () => {
      if (fail) throw new Error('EIO');
    });
    await expect(commit.request()).rejects.toThrow('EIO');
    fail = false;
    await expect(commit.request()).resolves.toBeUndefined();
  });
});
