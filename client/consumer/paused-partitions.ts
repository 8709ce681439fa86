/**
 * Which partitions the application paused: KafkaJS's `pause([{ topic, partitions? }])`, where a
 * topic without `partitions` means all of its partitions, including ones it gains later. Kept
 * apart from the assignment, so a pause outlives rebalances (as KafkaJS's does) and may name a
 * partition before this member is assigned it.
 *
 * Per topic: either a set of paused partitions, or "all" with a set of exceptions (partitions
 * resumed one by one after the whole topic was paused).
 */

interface TopicPause {
  isAll: boolean;
  /** Paused partitions when !isAll; resumed exceptions when isAll. */
  readonly partitions: Set<number>;
}

export interface TopicPartitions {
  readonly topic: string;
  /** Omitted: every partition of the topic. */
  readonly partitions?: ReadonlyArray<number>;
}

export class PausedPartitions {
  readonly #topics = new Map<string, TopicPause>();

  pause(topic: string, partitions: ReadonlyArray<number> | undefined): void {
    const entry = this.#topics.get(topic);
    if (partitions === undefined) {
      this.#topics.set(topic, { isAll: true, partitions: new Set() });
      return;
    }
    if (entry === undefined) {
      this.#topics.set(topic, { isAll: false, partitions: new Set(partitions) });
      return;
    }
    for (const partition of partitions) {
      if (entry.isAll) entry.partitions.delete(partition);
      else entry.partitions.add(partition);
    }
  }

  resume(topic: string, partitions: ReadonlyArray<number> | undefined): void {
    const entry = this.#topics.get(topic);
    if (entry === undefined) return;
    if (partitions === undefined) {
      this.#topics.delete(topic);
      return;
    }
    for (const partition of partitions) {
      if (entry.isAll) entry.partitions.add(partition);
      else entry.partitions.delete(partition);
    }
    if (!entry.isAll && entry.partitions.size === 0) this.#topics.delete(topic);
  }

  isPaused(topic: string, partition: number): boolean {
    const entry = this.#topics.get(topic);
    if (entry === undefined) return false;
    return entry.isAll ? !entry.partitions.has(partition) : entry.partitions.has(partition);
  }
}
