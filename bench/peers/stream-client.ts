/**
 * What a system's client must do for the workload drivers (drivers.ts) to run produce, consume
 * and e2e-latency on it. A system module (redis-streams.ts, nats-jetstream.ts, and one for
 * minikafka's SDK) implements this once over its own client; the drivers do all the timing, so
 * every system is measured by the same code.
 *
 * The shapes are batch-shaped, as the clients are: one send() is one Redis pipeline, one window
 * of NATS publishes, one producer.send() of many messages; one delivery is whatever the client
 * hands over at once.
 */

export interface StreamClient {
  /** Creates the stream (topic) if needed, empty. */
  createStream(stream: string): Promise<void>;
  /** Appends `values` in order and resolves once the system acknowledged every one of them. */
  send(stream: string, values: readonly Buffer[]): Promise<void>;
  /**
   * Joins a new consumer group on `stream` (Redis: XGROUP CREATE; NATS: a durable pull
   * consumer; Kafka: join and sync), reading from the first record (`start`) or only records
   * appended from now on (`end`). The drivers time this call as the group join.
   */
  joinGroup(stream: string, group: string, from: 'start' | 'end'): Promise<GroupReader>;
  close(): Promise<void>;
}

export interface GroupReader {
  /**
   * Hands every delivery's values to `onRecords`, in order, until `shouldStop()` is true or the
   * clock passes `deadlineMs` (performance.now() time); then resolves. Both are checked after
   * every delivery and after every wait that brought nothing, and no wait lasts much more than
   * 100 ms, so a reader with nothing left to read still stops in time.
   */
  read(onRecords: (values: readonly Buffer[]) => void, shouldStop: () => boolean, deadlineMs: number): Promise<void>;
  /** Leaves the group and releases the reader's connection. */
  close(): Promise<void>;
}
