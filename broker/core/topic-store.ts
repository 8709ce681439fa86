/**
 * Durable topic metadata: which topics exist, their partition counts and config overrides.
 *
 * Kafka keeps this in its metadata log (KRaft); one broker needs only one small file,
 * `<data dir>/minikafka-topics.json`, replaced atomically on every change (temporary file, fsync,
 * rename, fsync of the directory), so a crash leaves the old or the new list, never half of one:
 *
 *   { "version": 1, "topics": [ { "name", "topicId", "partitions", "configs": { "retention.ms": "…" }, "createdMs" } ] }
 *
 * The file is the truth about which topics exist: a partition directory that it does not list
 * (left by a deletion that crashed part way) is removed at startup.
 */

import crypto from 'node:crypto';
import path from 'node:path';
import type { FileIo } from '../storage/file-io.ts';
import { readWholeFile, writeFileAtomic } from '../storage/file-io.ts';

export const TOPICS_FILE = 'minikafka-topics.json';
const FORMAT_VERSION = 1;

export interface StoredTopic {
  readonly name: string;
  /** A UUID, as Kafka gives every topic, so a topic re-created under the same name is a new topic. */
  readonly topicId: string;
  readonly partitions: number;
  /** Topic-level overrides under Kafka's names; everything else comes from the broker config. */
  readonly configs: Readonly<Record<string, string>>;
  readonly createdMs: number;
}

export class TopicStore {
  readonly #io: FileIo;
  readonly #dataDir: string;
  readonly #topics: Map<string, StoredTopic>;

  private constructor(io: FileIo, dataDir: string, topics: StoredTopic[]) {
    this.#io = io;
    this.#dataDir = dataDir;
    this.#topics = new Map(topics.map((t) => [t.name, t]));
  }

  static load(io: FileIo, dataDir: string): TopicStore {
    const file = path.join(dataDir, TOPICS_FILE);
    if (!io.exists(file)) return new TopicStore(io, dataDir, []);
    const parsed = JSON.parse(readWholeFile(io, file).toString('utf8')) as { version: number; topics: StoredTopic[] };
    if (parsed.version !== FORMAT_VERSION || !Array.isArray(parsed.topics)) throw new Error(`${file} is not a version ${FORMAT_VERSION} topic list`);
    return new TopicStore(io, dataDir, parsed.topics);
  }

  static newTopicId(): string {
    return crypto.randomUUID();
  }

  get(name: string): StoredTopic | undefined {
    return this.#topics.get(name);
  }

  list(): StoredTopic[] {
    return [...this.#topics.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  async put(topic: StoredTopic): Promise<void> {
    this.#topics.set(topic.name, topic);
    await this.#save();
  }

  async remove(name: string): Promise<void> {
    this.#topics.delete(name);
    await this.#save();
  }

  #save(): Promise<void> {
    const content = JSON.stringify({ version: FORMAT_VERSION, topics: this.list() }, null, 2) + '\n';
    return writeFileAtomic(this.#io, this.#dataDir, TOPICS_FILE, Buffer.from(content, 'utf8'));
  }
}
