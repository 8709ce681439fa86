/**
 * Allocation of idempotent producer ids (Kafka's InitProducerId without a transactional id).
 *
 * Ids must never repeat, even across crashes, or a new producer could be mistaken for an old one
 * and have its batches dropped as duplicates. So ids are handed out from blocks: before the first
 * id of a block is given, the end of the block is written durably to `producer-id-block` in the
 * data directory; after a crash the next block starts there. A crash wastes at most one block.
 *
 * A producer that already has an id may ask for its epoch to be bumped (KIP-360): it keeps its id
 * with epoch + 1, which fences any older instance still sending with the old epoch.
 */

import path from 'node:path';
import { MiniKafkaError } from '../../common/errors.ts';
import type { FileIo } from '../storage/file-io.ts';
import { nodeFileIo, readWholeFile, writeFileAtomic } from '../storage/file-io.ts';

const BLOCK_FILE = 'producer-id-block';
const BLOCK_SIZE = 1000;
const EPOCH_MAX = 0x7fff;

export interface ProducerIdAndEpoch {
  readonly producerId: number;
  readonly producerEpoch: number;
}

export class ProducerIds {
  readonly #io: FileIo;
  readonly #dataDir: string;
  #nextId: number;
  #blockEnd: number;
  #reserving: Promise<void> | null = null;

  private constructor(io: FileIo, dataDir: string, blockStart: number) {
    this.#io = io;
    this.#dataDir = dataDir;
    this.#nextId = blockStart;
    this.#blockEnd = blockStart;
  }

  static open(dataDir: string, io: FileIo = nodeFileIo): ProducerIds {
    const file = path.join(dataDir, BLOCK_FILE);
    const start = io.exists(file) ? Number(readWholeFile(io, file).toString('utf8').trim()) : 0;
    if (!Number.isSafeInteger(start) || start < 0) throw new Error(`${file} does not hold a producer id`);
    return new ProducerIds(io, dataDir, start);
  }

  /** A new producer id with epoch 0, or, given a known id and epoch, the same id one epoch on. */
  async init(current?: ProducerIdAndEpoch): Promise<ProducerIdAndEpoch> {
    if (current !== undefined && current.producerId >= 0) {
      if (!Number.isSafeInteger(current.producerId) || current.producerId >= this.#nextId) {
        throw new MiniKafkaError('UNKNOWN_PRODUCER_ID', `producer id ${current.producerId} was never allocated by this broker`, { producerId: current.producerId });
      }
      if (current.producerEpoch < EPOCH_MAX) return { producerId: current.producerId, producerEpoch: current.producerEpoch + 1 };
      // The epoch is exhausted: a fresh id, as Kafka gives.
    }
    while (this.#nextId >= this.#blockEnd) await this.#reserveBlock();
    const producerId = this.#nextId;
    this.#nextId += 1;
    return { producerId, producerEpoch: 0 };
  }

  #reserveBlock(): Promise<void> {
    this.#reserving ??= (async () => {
      const end = this.#blockEnd + BLOCK_SIZE;
      await writeFileAtomic(this.#io, this.#dataDir, BLOCK_FILE, Buffer.from(`${end}\n`));
      this.#blockEnd = end;
    })().finally(() => {
      this.#reserving = null;
    });
    return this.#reserving;
  }
}
