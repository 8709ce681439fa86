/**
 * The schedulers: ManualScheduler fires timers in time order at their due time, including timers
 * added by callbacks; the system scheduler fires real timers (with a zero delay, so no test waits).
 */

import { describe, expect, it } from 'vitest';
import { ManualScheduler, systemScheduler } from '../../../broker/groups/scheduler.ts';

describe('ManualScheduler', () => {
  it('advance() fires due timers in time order, each seeing its own due time, and none early', () => {
    const scheduler = new ManualScheduler(1000);
    const fired: string[] = [];
    scheduler.schedule(300, () => fired.push(`c@${scheduler.nowMs()}`));
    scheduler.schedule(100, () => fired.push(`a@${scheduler.nowMs()}`));
    scheduler.schedule(100, () => fired.push(`b@${scheduler.nowMs()}`));
    scheduler.advance(99);
    expect(fired).toEqual([]);
    scheduler.advance(201);
    expect(fired).toEqual(['a@1100', 'b@1100', 'c@1300']);
    expect(scheduler.nowMs()).toBe(1300);
  });

  it('advance() also fires timers that callbacks schedule inside the window, and skips cancelled ones', () => {
    const scheduler = new ManualScheduler(0);
    const fired: number[] = [];
    const cancelled = scheduler.schedule(50, () => fired.push(-1));
    scheduler.schedule(10, () => {
      fired.push(scheduler.nowMs());
      scheduler.schedule(10, () => fired.push(scheduler.nowMs()));
      scheduler.schedule(0, () => fired.push(scheduler.nowMs()));
    });
    cancelled.cancel();
    scheduler.advance(100);
    expect(fired).toEqual([10, 10, 20]);
    expect(scheduler.nowMs()).toBe(100);
    expect(scheduler.pendingTimerCount).toBe(0);
  });

  it('advance(0) fires timers due now', () => {
    const scheduler = new ManualScheduler(0);
    let fired = false;
    scheduler.schedule(0, () => (fired = true));
    expect(fired).toBe(false);
    scheduler.advance(0);
    expect(fired).toBe(true);
  });
});

describe('systemScheduler', () => {
  it('fires a timer through setTimeout, and a cancelled one not at all', async () => {
    const fired: string[] = [];
    systemScheduler.schedule(0, () => fired.push('kept'));
    systemScheduler.schedule(0, () => fired.push('cancelled')).cancel();
    await new Promise<void>((resolve) => systemScheduler.schedule(1, () => resolve()));
    expect(fired).toEqual(['kept']);
    expect(Math.abs(systemScheduler.nowMs() - Date.now())).toBeLessThan(1000);
  });
});
