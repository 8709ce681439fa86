/**
 * The HTTP API's limits: each named as the broker config that sets it, with its default, and
 * checked where a request enters. A request over a limit is refused with an error that names the
 * limit and its value, except fetch.max.bytes, which caps quietly as Kafka's broker does.
 */

export interface HttpLimits {
  /** minikafka.http.max.body.bytes: the largest request body; must be ≥ message.max.bytes. */
  readonly maxBodyBytes: number;
  /** minikafka.http.max.records.per.request: the most records one JSON or msgpack produce carries. */
  readonly maxRecordsPerRequest: number;
  /** minikafka.http.max.connections: open connections beyond this are answered TOO_MANY_CONNECTIONS. */
  readonly maxConnections: number;
  /** minikafka.fetch.max.wait.ms: the longest `timeout` a fetch may ask to wait for records. */
  readonly fetchMaxWaitMs: number;
  /** fetch.max.bytes: the most bytes one fetch returns (at least one whole batch); larger asks are capped. */
  readonly fetchMaxBytes: number;
}

export const limitNames: Readonly<Record<keyof HttpLimits, string>> = {
  maxBodyBytes: 'minikafka.http.max.body.bytes',
  maxRecordsPerRequest: 'minikafka.http.max.records.per.request',
  maxConnections: 'minikafka.http.max.connections',
  fetchMaxWaitMs: 'minikafka.fetch.max.wait.ms',
  fetchMaxBytes: 'fetch.max.bytes',
};

export const defaultHttpLimits: HttpLimits = Object.freeze({
  maxBodyBytes: 10_485_760,
  maxRecordsPerRequest: 10_000,
  maxConnections: 1000,
  fetchMaxWaitMs: 30_000,
  /** Kafka's broker default for fetch.max.bytes (55 MiB). */
  fetchMaxBytes: 57_671_680,
});

export function resolveHttpLimits(overrides: Partial<HttpLimits> = {}): HttpLimits {
  const limits: HttpLimits = { ...defaultHttpLimits };
  for (const [name, value] of Object.entries(overrides) as Array<[keyof HttpLimits, number | undefined]>) {
    if (value === undefined) continue;
    if (!Number.isSafeInteger(value) || value < (name === 'fetchMaxWaitMs' ? 0 : 1)) {
      throw new RangeError(`${limitNames[name]} must be a positive integer, got ${value}`);
    }
    (limits as Record<keyof HttpLimits, number>)[name] = value;
  }
  return Object.freeze(limits);
}
