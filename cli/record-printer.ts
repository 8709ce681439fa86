/**
 * Where `minikafka consume` sends the records it reads: formatted (record-format.ts), counted,
 * and written in chunks through a BufferedWriter, flushed after each fetch so that records show
 * up as they arrive and a slow reader (`| less`) holds the consumer back instead of filling memory.
 *
 * `--max-messages N` is kept here: `print()` refuses records once N were printed, and says so.
 */

import type { CliIo } from './cli-io.ts';
import { BufferedWriter } from './cli-io.ts';
import type { ConsumedRecord, TextFields } from './record-format.ts';
import { formatRecordJson, formatRecordText } from './record-format.ts';

export type OutputFormat = 'text' | 'json';

export class RecordPrinter {
  readonly #out: BufferedWriter;
  readonly #format: OutputFormat;
  readonly #fields: TextFields;
  readonly #maxMessages: number;
  #count = 0;

  constructor(io: CliIo, format: OutputFormat, fields: TextFields, maxMessages: number = Number.POSITIVE_INFINITY) {
    this.#out = new BufferedWriter(io);
    this.#format = format;
    this.#fields = fields;
    this.#maxMessages = maxMessages;
  }

  /** Records printed so far. */
  get count(): number {
    return this.#count;
  }

  get isFull(): boolean {
    return this.#count >= this.#maxMessages;
  }

  /** Prints the record; false when --max-messages was already reached (nothing printed). */
  print(record: ConsumedRecord): boolean {
    if (this.isFull) return false;
    this.#out.write(this.#format === 'json' ? formatRecordJson(record) : formatRecordText(record, this.#fields));
    this.#count++;
    return true;
  }

  /** Writes out what is buffered and waits for a reader that fell behind. */
  async flush(): Promise<void> {
    this.#out.flush();
    await this.#out.takeReaderWait();
  }
}
