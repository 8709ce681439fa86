/**
 * `minikafka topic create | list | describe | alter | delete`: what `kafka-topics.sh` does, through
 * the SDK's admin client (client/admin/admin.ts), never the broker's internals.
 *
 * Text output is Kafka's where Kafka has one (`Created topic orders.`, names one per line, the
 * `Topic: … PartitionCount: … Configs: …` line of --describe); describe adds a table of what a
 * learner wants to see per partition: log start offset, high watermark, size and segments.
 * With --json every command prints one JSON document: the topic's description (create, describe,
 * alter), the list of names (list), or `{ "deleted": name }`.
 */

import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import type { TopicDescription } from '../client/admin/admin.ts';
import { BrokerError } from '../client/errors.ts';
import type { BrokerOptions } from './broker-client.ts';
import { addBrokerOption, withAdmin } from './broker-client.ts';
import { CliUserError } from './cli-errors.ts';
import type { CliContext } from './cli-io.ts';
import { EXIT_USAGE } from './cli-io.ts';
import { collect, parseKeyValue, parsePartitionCount } from './option-parsers.ts';
import { formatTable } from './table.ts';

interface TopicCommandOptions extends BrokerOptions {
  readonly json?: boolean;
}

interface CreateOptions extends TopicCommandOptions {
  readonly partitions?: number;
  readonly replicationFactor?: number;
  readonly config?: string[];
  readonly ifNotExists?: boolean;
}

interface AlterOptions extends TopicCommandOptions {
  readonly config?: string[];
  readonly deleteConfig?: string[];
  readonly partitions?: number;
}

interface DeleteOptions extends TopicCommandOptions {
  readonly ifExists?: boolean;
}

const examples = `
Examples:
  $ minikafka topic create orders --partitions 3
  $ minikafka topic create events --config retention.ms=86400000 --config cleanup.policy=compact
  $ minikafka topic list
  $ minikafka topic describe orders
  $ minikafka topic alter orders --config retention.ms=3600000 --delete-config cleanup.policy
  $ minikafka topic alter orders --partitions 6
  $ minikafka topic delete orders
  $ minikafka topic describe orders --json --broker http://127.0.0.1:18082

Config names are Kafka's (docs/configuration.md lists them).`;

export function registerTopic(program: Command, context: CliContext): void {
  const topic = program.command('topic').description('create, list, describe, alter and delete topics (kafka-topics)').addHelpText('after', examples);

  addBrokerOption(topic.command('create'))
    .description('create a topic')
    .argument('<name>', "the topic: 1 to 249 of a-z A-Z 0-9 . _ -")
    .option('--partitions <n>', "how many partitions (default: the broker's num.partitions)", parsePartitionCount)
    .option('--replication-factor <n>', 'accepted for Kafka scripts: must be 1, this is one broker', parsePartitionCount)
    .option('--config <name=value>', 'a topic config override; repeatable', collect)
    .option('--if-not-exists', 'succeed quietly when the topic already exists')
    .addHelpText('after', examples)
    .action(async (name: string, _options: unknown, command: Command) => {
      await createTopic(name, command.optsWithGlobals<CreateOptions>(), context);
    });

  addBrokerOption(topic.command('list'))
    .description('list the topics, one name per line')
    .addHelpText('after', examples)
    .action(async (_options: unknown, command: Command) => {
      await listTopics(command.optsWithGlobals<TopicCommandOptions>(), context);
    });

  addBrokerOption(topic.command('describe'))
    .description('show a topic: its partitions with their offsets, size and segments, and its config overrides')
    .argument('<name>', 'the topic')
    .addHelpText('after', examples)
    .action(async (name: string, _options: unknown, command: Command) => {
      await describeTopic(name, command.optsWithGlobals<TopicCommandOptions>(), context);
    });

  addBrokerOption(topic.command('alter'))
    .description("change a topic's config overrides, or add partitions")
    .argument('<name>', 'the topic')
    .option('--config <name=value>', 'set a config override; repeatable', collect)
    .option('--delete-config <name>', "remove an override, so the broker's value applies again; repeatable", collect)
    .option('--partitions <n>', 'grow the topic to this many partitions in total (keys then hash over the new count)', parsePartitionCount)
    .addHelpText('after', examples)
    .action(async (name: string, _options: unknown, command: Command) => {
      await alterTopic(name, command.optsWithGlobals<AlterOptions>(), context);
    });

  addBrokerOption(topic.command('delete'))
    .description('delete a topic and all its records')
    .argument('<name>', 'the topic')
    .option('--if-exists', 'succeed quietly when there is no such topic')
    .addHelpText('after', examples)
    .action(async (name: string, _options: unknown, command: Command) => {
      await deleteTopic(name, command.optsWithGlobals<DeleteOptions>(), context);
    });
}

export async function createTopic(name: string, options: CreateOptions, context: CliContext): Promise<void> {
  const configEntries = (options.config ?? []).map((text) => parseConfigOption(text, '--config'));
  const description = await withAdmin(options, async (admin) => {
    const isCreated = await admin.createTopics({
      topics: [{ topic: name, numPartitions: options.partitions, replicationFactor: options.replicationFactor, configEntries }],
    });
    if (!isCreated && options.ifNotExists !== true) throw new CliUserError(`topic ${name} already exists (TOPIC_ALREADY_EXISTS); add --if-not-exists to accept that`);
    return { isCreated, topic: await admin.describeTopic(name) };
  });
  if (options.json === true) {
    await context.io.writeOut(JSON.stringify({ created: description.isCreated, ...description.topic }) + '\n');
    return;
  }
  const count = description.topic.partitions.length;
  await context.io.writeOut(description.isCreated
    ? `Created topic ${name} with ${count} ${count === 1 ? 'partition' : 'partitions'}.\n`
    : `Topic ${name} already exists (${count} ${count === 1 ? 'partition' : 'partitions'}); nothing changed.\n`);
}

export async function listTopics(options: TopicCommandOptions, context: CliContext): Promise<void> {
  const names = await withAdmin(options, (admin) => admin.listTopics());
  names.sort();
  if (options.json === true) await context.io.writeOut(JSON.stringify(names) + '\n');
  else await context.io.writeOut(names.map((name) => `${name}\n`).join(''));
}

export async function describeTopic(name: string, options: TopicCommandOptions, context: CliContext): Promise<void> {
  const description = await withAdmin(options, (admin) => admin.describeTopic(name));
  await context.io.writeOut(options.json === true ? JSON.stringify(description) + '\n' : formatTopicDescription(description));
}

export async function alterTopic(name: string, options: AlterOptions, context: CliContext): Promise<void> {
  const configs: Record<string, string | null> = {};
  for (const text of options.config ?? []) {
    const { name: configName, value } = parseConfigOption(text, '--config');
    configs[configName] = value;
  }
  for (const configName of options.deleteConfig ?? []) configs[configName.trim()] = null;
  if (Object.keys(configs).length === 0 && options.partitions === undefined) {
    throw new CliUserError('topic alter needs something to change: --config name=value, --delete-config name or --partitions n', EXIT_USAGE);
  }
  const description = await withAdmin(options, async (admin) => {
    if (options.partitions !== undefined) await admin.createPartitions({ topicPartitions: [{ topic: name, count: options.partitions }] });
    if (Object.keys(configs).length > 0) return admin.alterTopicConfigs({ topic: name, configs });
    return admin.describeTopic(name);
  });
  if (options.json === true) {
    await context.io.writeOut(JSON.stringify(description) + '\n');
    return;
  }
  const changes = Object.entries(configs).map(([configName, value]) => (value === null ? `${configName} removed` : `${configName}=${value}`));
  if (options.partitions !== undefined) changes.unshift(`${description.partitions.length} partitions`);
  await context.io.writeOut(`Updated topic ${name}: ${changes.join(', ')}.\n`);
}

export async function deleteTopic(name: string, options: DeleteOptions, context: CliContext): Promise<void> {
  let isDeleted = true;
  await withAdmin(options, async (admin) => {
    try {
      await admin.deleteTopics({ topics: [name] });
    } catch (error) {
      if (!(options.ifExists === true && error instanceof BrokerError && error.code === 'UNKNOWN_TOPIC_OR_PARTITION')) throw error;
      isDeleted = false;
    }
  });
  if (options.json === true) await context.io.writeOut(JSON.stringify({ topic: name, deleted: isDeleted }) + '\n');
  else await context.io.writeOut(isDeleted ? `Deleted topic ${name}.\n` : `Topic ${name} does not exist; nothing deleted.\n`);
}

/**
 * Kafka's `--describe` header line (configs are the topic's own overrides, as Kafka lists them),
 * then one row per partition.
 */
export function formatTopicDescription(description: TopicDescription): string {
  const overrides = description.configs.filter((config) => config.source === 'DYNAMIC_TOPIC_CONFIG').map((config) => `${config.name}=${config.value ?? ''}`);
  const header = [
    `Topic: ${description.name}`,
    `TopicId: ${description.topicId}`,
    `PartitionCount: ${description.partitions.length}`,
    'ReplicationFactor: 1',
    `Configs: ${overrides.join(',')}`,
  ].join('  ').trimEnd();
  const rows = description.partitions.map((p) => [p.partition, p.leader, p.logStartOffset, p.highWatermark, p.sizeBytes, p.segments.length]);
  return `${header}\n${formatTable(['PARTITION', 'LEADER', 'LOG-START-OFFSET', 'HIGH-WATERMARK', 'SIZE-BYTES', 'SEGMENTS'], rows)}`;
}

/** `--config name=value` as a command-line mistake (exit 2) when it is not name=value. */
function parseConfigOption(text: string, option: string): { name: string; value: string } {
  try {
    return parseKeyValue(text, option);
  } catch (error) {
    if (error instanceof InvalidArgumentError) throw new CliUserError(`${option}: ${error.message}`, EXIT_USAGE);
    throw error;
  }
}
