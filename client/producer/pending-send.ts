/**
 * One send() call on its way: its records sit in one or more batches (one per partition they went
 * to, or more when a batch filled up), and the call resolves when every batch holding its records
 * was acknowledged, or rejects at the first that failed (records in other batches may still be
 * delivered, as with a Kafka producer's per-record futures).
 *
 * The result has KafkaJS's RecordMetadata shape, one entry per topic and partition the call wrote
 * to, sorted by topic and partition: `baseOffset` is the offset of the call's first record in that
 * partition. As in KafkaJS, offsets and times are strings (int64 on the wire); with acks=0 the
 * broker reports no offsets and baseOffset is '-1'.
 */

export interface RecordMetadata {
  readonly topicName: string;
  readonly partition: number;
  /** Always 0: a failure rejects the send instead. */
  readonly errorCode: number;
  readonly baseOffset: string;
  /** The broker's append time for a LogAppendTime topic, else '-1'. */
  readonly logAppendTime: string;
  readonly logStartOffset: string;
}

interface PartitionOutcome {
  readonly topic: string;
  readonly partition: number;
  baseOffset: number;
  logAppendTimeMs: number;
  logStartOffset: number;
}

export class PendingSend {
  readonly promise: Promise<RecordMetadata[]>;
  #resolve!: (metadata: RecordMetadata[]) => void;
  #reject!: (error: unknown) => void;
  /** Runs of this call's records in batches not yet completed. */
  #openRuns = 0;
  #isSealed = false;
  #isSettled = false;
  readonly #outcomes: PartitionOutcome[] = [];

  constructor() {
    this.promise = new Promise<RecordMetadata[]>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
  }

  get isSettled(): boolean {
    return this.#isSettled;
  }

  /** A batch now holds a run of this call's records. */
  addRun(): void {
    this.#openRuns++;
  }

  /** Every record was appended: the call can resolve once its runs complete. */
  seal(): void {
    this.#isSealed = true;
    this.#settleIfDone();
  }

  /** A run was acknowledged; `baseOffset` is the offset of its first record. */
  completeRun(topic: string, partition: number, baseOffset: number, logAppendTimeMs: number, logStartOffset: number): void {
    this.#openRuns--;
    if (this.#isSettled) return;
    let outcome: PartitionOutcome | undefined;
    for (const candidate of this.#outcomes) {
      if (candidate.partition === partition && candidate.topic === topic) outcome = candidate;
    }
    if (outcome === undefined) {
      this.#outcomes.push({ topic, partition, baseOffset, logAppendTimeMs, logStartOffset });
    } else if (baseOffset >= 0 && (outcome.baseOffset < 0 || baseOffset < outcome.baseOffset)) {
      outcome.baseOffset = baseOffset;
    }
    this.#settleIfDone();
  }

  /** A run failed: the call rejects with the first failure. */
  failRun(error: unknown): void {
    this.#openRuns--;
    this.fail(error);
  }

  /** Rejects before any record was appended (or at the first failure). */
  fail(error: unknown): void {
    if (this.#isSettled) return;
    this.#isSettled = true;
    this.#reject(error);
  }

  #settleIfDone(): void {
    if (this.#isSettled || !this.#isSealed || this.#openRuns > 0) return;
    this.#isSettled = true;
    this.#outcomes.sort((a, b) => (a.topic === b.topic ? a.partition - b.partition : a.topic < b.topic ? -1 : 1));
    this.#resolve(this.#outcomes.map((o) => ({
      topicName: o.topic,
      partition: o.partition,
      errorCode: 0,
      baseOffset: String(o.baseOffset),
      logAppendTime: String(o.logAppendTimeMs),
      logStartOffset: String(o.logStartOffset),
    })));
  }
}
