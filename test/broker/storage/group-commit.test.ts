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

describe('PartitionLog flush rounds', () => {
  it('move the recovery point past appends made while the round waited for an earlier fsync', async () => {
    const { PartitionLog } = await import('../../../broker/storage/partition-log.ts');
    const { resolveLogConfig } = await import('../../../broker/storage/log-config.ts');
    const { nodeFileIo } = await import('../../../broker/storage/file-io.ts');
    const { encodeRecordBatch } = await import('../../../common/record-batch.ts');
    const { makeTempDir } = await import('../../helpers/temp-dir.ts');
    // fsyncs that wait at a gate the test opens: the round is held while appends arrive.
    const held: Array<() => void> = [];
    let isGateOpen = false;
    const gate = (): Promise<void> => (isGateOpen ? Promise.resolve() : new Promise<void>((resolve) => held.push(resolve)));
    const io = { ...nodeFileIo, fsync: (fd: number) => nodeFileIo.fsync(fd).then(gate), fsyncDir: (dir: string) => nodeFileIo.fsyncDir(dir).then(gate) };
    const log = PartitionLog.open({ dir: makeTempDir(), config: resolveLogConfig(), io });
    const append = (): void => void log.append(encodeRecordBatch({ records: [{ value: 'x'.repeat(100) }] }));
    append();
    log.roll(); // starts a background round one microtask from now
    append(); // the round will find both segments dirty
    while (held.length === 0) await new Promise((resolve) => setImmediate(resolve));
    append(); // arrives while the first segment's fsync is held, before the active one's is issued
    const end = log.nextOffset;
    isGateOpen = true;
    held.splice(0).forEach((resume) => resume());
    while (log.recoveryPoint === 0) await new Promise((resolve) => setImmediate(resolve));
    for (let i = 0; i < 10; i++) await new Promise((resolve) => setImmediate(resolve));
    // The round is over and every segment is clean: flush() has nothing to do, and the recovery
    // point must already cover the append the active segment's fsync took in.
    await log.flush();
    expect(log.recoveryPoint).toBe(end);
    await log.close();
  });
});
