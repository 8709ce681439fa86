/**
 * What the consumer knows of one partition it was assigned, for one generation:
 *
 * - `position`: the next offset to hand to the application (the last processed + 1). Only the
 *   runner moves it, after the application processed a record, or on seek(); auto-commit commits
 *   it. It is Kafka's consumer position, and what a commit stores.
 * - `committedOffset`: what this member last committed (or found committed), -1 for none.
 * - `highWatermark`, `logStartOffset`: from the last fetch answer (lag = highWatermark − position).
 * - `epoch`: bumped by everything that makes fetched records wrong to hand out: seek(), pause(),
 *   revocation. A fetch result carries the epoch it was fetched under; one from an older epoch
 *   is dropped, and a batch being processed whose epoch went stale stops there.
 *
 * A new PartitionState is made for every assignment (the eager protocol revokes everything), so
 * nothing carries over between generations except the committed offset in the broker.
 */

import type { FetchItem } from './partition-fetcher.ts';
import { partitionKey } from './group-calls.ts';

export class PartitionState {
  readonly topic: string;
  readonly partition: number;
  readonly key: string;
  position: number;
  committedOffset: number;
  highWatermark = -1;
  logStartOffset = -1;
  epoch = 0;
  isPaused = false;
  isRevoked = false;
  /** The fetch result waiting for the runner (fetch-queue.ts keeps at most one per partition). */
  waiting: FetchItem | null = null;
  /** Aborts the partition's fetch loop; null while it has none (paused, revoked). */
  fetchAbort: AbortController | null = null;
  /** The fetch loop's promise, awaited when the partition is revoked. */
  fetching: Promise<void> | null = null;

  constructor(topic: string, partition: number, position: number, committedOffset: number) {
    this.topic = topic;
    this.partition = partition;
    this.key = partitionKey(topic, partition);
    this.position = position;
    this.committedOffset = committedOffset;
  }

  /** Records between the position and the high watermark; 0 before the first fetch answer. */
  get lag(): number {
    return this.highWatermark < 0 ? 0 : Math.max(0, this.highWatermark - this.position);
  }

  get hasUncommitted(): boolean {
    return this.position !== this.committedOffset;
  }
}
