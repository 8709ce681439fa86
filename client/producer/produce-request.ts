/**
 * The answer to `POST /produce`, as the producer reads it: one result per entry of the request, in
 * request order. The request's body is common/produce-batches.ts (shared with the broker, which
 * builds these results in broker/http/routes/produce-batches.ts).
 */

/** One entry's outcome: its offsets, or the one error body of its failure (offsets then -1). */
export interface ProduceEntryResult {
  readonly topic: string;
  readonly partition: number;
  readonly base_offset: number;
  readonly log_append_time: number;
  readonly log_start_offset: number;
  readonly duplicate: boolean;
  readonly error: { error_code: number; message: string; code: string; retriable: boolean; details?: Record<string, unknown> } | null;
}

export interface ProduceBatchesResponse {
  readonly results: ProduceEntryResult[];
}
