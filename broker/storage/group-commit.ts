/**
 * Group commit: every caller waiting for durability shares one fsync round.
 *
 * While a round is running, new requests wait for the next round; when the running one ends, a
 * single new round covers all of them, whatever their number. So with flush.messages=1 and many
 * producers, the fsync rate is bounded by the disk's fsync latency, not by the append rate, and
 * each acknowledgement still waits for an fsync that started after its bytes were written.
 */

export class GroupCommit {
  readonly #round: () => Promise<void>;
  #running: Promise<void> | null = null;
  #next: Promise<void> | null = null;

  /** `round` makes everything appended before it started durable. */
  constructor(round: () => Promise<void>) {
    this.#round = round;
  }

  /** Resolves once a round that started after this call has finished; rejects if that round failed. */
  request(): Promise<void> {
    // A round is already queued: it has not started, so it covers the caller's bytes. Join it.
    if (this.#next !== null) return this.#next;
    // Idle: start one microtask later, so that every append of this turn of the event loop (for
    // example all the producers woken by the previous round) shares the round.
    // Running: the running round may have started before the caller's bytes were written, so
    // queue the next one, which every caller arriving from now on shares.
    const after = this.#running ?? Promise.resolve();
    this.#next = after.then(
      () => this.#start(),
      () => this.#start(),
    );
    return this.#next;
  }

  get isIdle(): boolean {
    return this.#running === null && this.#next === null;
  }

  /** Resolves when no round is running or queued (for close). Never rejects. */
  async idle(): Promise<void> {
    while (this.#running !== null || this.#next !== null) {
      await (this.#next ?? this.#running)!.catch(() => undefined);
    }
  }

  #start(): Promise<void> {
    this.#next = null;
    const round = this.#round();
    this.#running = round;
    const clear = (): void => {
      if (this.#running === round) this.#running = null;
    };
    round.then(clear, clear);
    return round;
  }
}
