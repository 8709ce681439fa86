/**
 * The coordinator's timers, keyed like Kafka's timer keys: per group one join timer (the end of
 * the join phase), one sync timer (members that never send SyncGroup) and one heartbeat timer per
 * member (its session, or the new-member join timeout). Scheduling a key replaces its timer, and
 * a timer fires only if it is still the latest for its key and its group has not been unloaded,
 * so a callback never runs against state it was not scheduled for.
 */

import type { Group } from './group.ts';
import type { ScheduledTimer, Scheduler } from './scheduler.ts';

export type TimerKind = 'join' | 'sync' | `heartbeat:${string}`;

export class GroupTimers {
  readonly #scheduler: Scheduler;
  readonly #timers = new Map<Group, Map<TimerKind, ScheduledTimer>>();

  constructor(scheduler: Scheduler) {
    this.#scheduler = scheduler;
  }

  schedule(group: Group, kind: TimerKind, delayMs: number, fn: () => void): void {
    let timers = this.#timers.get(group);
    if (timers === undefined) this.#timers.set(group, (timers = new Map()));
    timers.get(kind)?.cancel();
    const timer = this.#scheduler.schedule(delayMs, () => {
      if (this.#timers.get(group)?.get(kind) !== timer) return;
      timers.delete(kind);
      fn();
    });
    timers.set(kind, timer);
  }

  cancel(group: Group, kind: TimerKind): void {
    const timers = this.#timers.get(group);
    timers?.get(kind)?.cancel();
    timers?.delete(kind);
  }

  /** Stops every timer of a group that leaves the coordinator. */
  cancelAll(group: Group): void {
    for (const timer of this.#timers.get(group)?.values() ?? []) timer.cancel();
    this.#timers.delete(group);
  }
}
