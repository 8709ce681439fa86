/**
 * `minikafka group list | describe | delete | reset-offsets`: what `kafka-consumer-groups.sh`
 * does, through the SDK's admin client (listGroups, describeGroup, deleteGroups, resetOffsets).
 *
 * `describe` prints Kafka's table, GROUP TOPIC PARTITION CURRENT-OFFSET LOG-END-OFFSET LAG
 * CONSUMER-ID HOST CLIENT-ID, with `-` where Kafka's tool shows it (no commit yet, no owner);
 * `--members` and `--state` print Kafka's other two views. With --json it prints the group as the
 * SDK describes it: `partitions` items carry `committedOffset`, `logEndOffset` and `lag`.
 *
 * `reset-offsets` is a dry run unless `--execute`, as Kafka's: it prints the plan (the current
 * and the new offset per partition) and changes nothing. Scope: `--topic T` (all its partitions),
 * `--topic T:0,2`, repeatable, or `--all-topics` (every topic the group has offsets for).
 * Exactly one strategy: `--to-earliest`, `--to-latest`, `--to-offset N`, `--to-datetime T`,
 * `--shift-by N`. The broker refuses while the group has live members (NON_EMPTY_GROUP): their
 * next commit would undo the reset.
 */

import type { Command } from 'commander';
import type { GroupDescription, ResetTarget } from '../client/admin/admin.ts';
import type { BrokerOptions } from './broker-client.ts';
import { addBrokerOption, withAdmin } from './broker-client.ts';
import { CliUserError } from './cli-errors.ts';
import type { CliContext } from './cli-io.ts';
import { EXIT_USAGE } from './cli-io.ts';
import { collect, parseOffset, parseShift, parseTimestampMs } from './option-parsers.ts';
import { formatTable } from './table.ts';

interface GroupCommandOptions extends BrokerOptions {
  readonly json?: boolean;
}

interface DescribeOptions extends GroupCommandOptions {
  readonly members?: boolean;
  readonly state?: boolean;
}

interface ResetOptions extends GroupCommandOptions {
  readonly topic?: string[];
  readonly allTopics?: boolean;
  readonly toEarliest?: boolean;
  readonly toLatest?: boolean;
  readonly toOffset?: number;
  readonly toDatetime?: string;
  readonly shiftBy?: number;
  readonly execute?: boolean;
  readonly dryRun?: boolean;
}

/** One --topic of reset-offsets: a topic alone means all its partitions. */
export interface TopicScope {
  readonly topic: string;
  readonly partitions?: number[];
}

const examples = `
Examples:
  $ minikafka group list
  $ minikafka group describe billing
  $ minikafka group describe billing --members
  $ minikafka group delete billing
  $ minikafka group reset-offsets billing --topic orders --to-earliest            a dry run: prints the plan
  $ minikafka group reset-offsets billing --topic orders --to-earliest --execute
  $ minikafka group reset-offsets billing --topic orders:0,2 --shift-by -10 --execute
  $ minikafka group reset-offsets billing --all-topics --to-datetime 2026-01-31T12:00:00Z

Offsets of a group can only be reset, and a group deleted, while it has no live members.`;

export function registerGroup(program: Command, context: CliContext): void {
  const group = program.command('group').description('list, describe (with lag), delete consumer groups and reset their offsets (kafka-consumer-groups)').addHelpText('after', examples);

  addBrokerOption(group.command('list'))
    .description('list the consumer groups with their state')
    .addHelpText('after', examples)
    .action(async (_options: unknown, command: Command) => {
      await listGroups(command.optsWithGlobals<GroupCommandOptions>(), context);
    });

  addBrokerOption(group.command('describe'))
    .description("show a group's committed offsets, log end offsets and lag per partition, and who reads each")
    .argument('<group>', 'the group id')
    .option('--members', 'show the members instead: id, host, client id and partitions')
    .option('--state', "show the group's state instead: assignor, state, member count")
    .addHelpText('after', examples)
    .action(async (groupId: string, _options: unknown, command: Command) => {
      await describeGroup(groupId, command.optsWithGlobals<DescribeOptions>(), context);
    });

  addBrokerOption(group.command('delete'))
    .description('delete groups and their committed offsets (only groups without live members)')
    .argument('<group...>', 'the group ids')
    .addHelpText('after', examples)
    .action(async (groupIds: string[], _options: unknown, command: Command) => {
      await deleteGroups(groupIds, command.optsWithGlobals<GroupCommandOptions>(), context);
    });

  addBrokerOption(group.command('reset-offsets'))
    .description("move a group's committed offsets: prints the plan, and commits it with --execute")
    .argument('<group>', 'the group id')
    .option('--topic <topic[:p,…]>', 'a topic, or some of its partitions (orders:0,2); repeatable', collect)
    .option('--all-topics', 'every topic the group has committed offsets for')
    .option('--to-earliest', 'to the log start offset')
    .option('--to-latest', 'to the log end offset (skip everything not yet read)')
    .option('--to-offset <n>', 'to this offset (clamped into the log)', parseOffset)
    .option('--to-datetime <time>', 'to the first record at or after this time (ISO 8601, local time without a zone, or ms since the epoch)')
    .option('--shift-by <n>', 'by n from the committed offset (negative: back), e.g. --shift-by=-10', parseShift)
    .option('--dry-run', 'print the plan only (the default)')
    .option('--execute', 'commit the new offsets')
    .addHelpText('after', examples)
    .action(async (groupId: string, _options: unknown, command: Command) => {
      await resetOffsets(groupId, command.optsWithGlobals<ResetOptions>(), context);
    });
}

export async function listGroups(options: GroupCommandOptions, context: CliContext): Promise<void> {
  const { groups } = await withAdmin(options, (admin) => admin.listGroups());
  groups.sort((a, b) => a.groupId.localeCompare(b.groupId));
  if (options.json === true) await context.io.writeOut(JSON.stringify(groups) + '\n');
  else await context.io.writeOut(formatTable(['GROUP', 'STATE', 'PROTOCOL-TYPE'], groups.map((g) => [g.groupId, g.state, g.protocolType === '' ? null : g.protocolType])));
}

export async function describeGroup(groupId: string, options: DescribeOptions, context: CliContext): Promise<void> {
  if (options.members === true && options.state === true) throw new CliUserError('--members and --state are two views: give one', EXIT_USAGE);
  const description = await withAdmin(options, (admin) => admin.describeGroup(groupId));
  if (options.json === true) {
    await context.io.writeOut(JSON.stringify(description) + '\n');
    return;
  }
  if (options.state === true) await context.io.writeOut(formatGroupState(description));
  else if (options.members === true) await context.io.writeOut(formatGroupMembers(description));
  else await context.io.writeOut(formatGroupOffsets(description));
}

export async function deleteGroups(groupIds: ReadonlyArray<string>, options: GroupCommandOptions, context: CliContext): Promise<void> {
  await withAdmin(options, (admin) => admin.deleteGroups(groupIds));
  if (options.json === true) await context.io.writeOut(JSON.stringify({ deleted: groupIds }) + '\n');
  else await context.io.writeOut(`Deletion of requested consumer groups (${groupIds.map((id) => `'${id}'`).join(', ')}) was successful.\n`);
}

export async function resetOffsets(groupId: string, options: ResetOptions, context: CliContext): Promise<void> {
  const to = resetTarget(options);
  const scopes = (options.topic ?? []).map(parseTopicScope);
  if ((scopes.length > 0) === (options.allTopics === true)) throw new CliUserError('say which offsets to reset: --topic T (repeatable, T:0,2 for some partitions) or --all-topics', EXIT_USAGE);
  if (options.execute === true && options.dryRun === true) throw new CliUserError('--dry-run and --execute contradict each other: give one', EXIT_USAGE);
  const execute = options.execute === true;
  const result = await withAdmin(options, (admin) => admin.resetOffsets({
    groupId,
    topics: scopes.length > 0 ? scopes.map((s) => (s.partitions === undefined ? s.topic : { topic: s.topic, partitions: s.partitions })) : undefined,
    allTopics: options.allTopics === true,
    to,
    dryRun: !execute,
  }));
  if (options.json === true) {
    await context.io.writeOut(JSON.stringify({ groupId, ...result }) + '\n');
    return;
  }
  const plan = [...result.plan].sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition);
  const table = formatTable(['GROUP', 'TOPIC', 'PARTITION', 'CURRENT-OFFSET', 'NEW-OFFSET'], plan.map((row) => [groupId, row.topic, row.partition, row.currentOffset, row.newOffset]));
  const note = result.executed
    ? `Committed the new offsets of group ${groupId}: its consumers start there.\n`
    : 'Dry run: nothing was changed. Add --execute to commit these offsets.\n';
  await context.io.writeOut(table + note);
}

/** The one strategy of reset-offsets; none or several is a usage error. */
export function resetTarget(options: Pick<ResetOptions, 'toEarliest' | 'toLatest' | 'toOffset' | 'toDatetime' | 'shiftBy'>): ResetTarget {
  const targets: Array<[string, () => ResetTarget]> = [];
  if (options.toEarliest === true) targets.push(['--to-earliest', () => 'earliest']);
  if (options.toLatest === true) targets.push(['--to-latest', () => 'latest']);
  if (options.toOffset !== undefined) targets.push(['--to-offset', () => ({ offset: options.toOffset as number })]);
  if (options.toDatetime !== undefined) targets.push(['--to-datetime', () => ({ timestamp: parseDatetime(options.toDatetime as string) })]);
  if (options.shiftBy !== undefined) targets.push(['--shift-by', () => ({ shiftBy: options.shiftBy as number })]);
  if (targets.length !== 1) {
    const given = targets.length === 0 ? 'none was given' : `${targets.map(([name]) => name).join(' and ')} were given`;
    throw new CliUserError(`reset-offsets takes one of --to-earliest, --to-latest, --to-offset N, --to-datetime T, --shift-by N; ${given}`, EXIT_USAGE);
  }
  return targets[0][1]();
}

/** `orders` or `orders:0,2` (Kafka's spelling); the topic name itself has no `:` (Kafka's names cannot). */
export function parseTopicScope(text: string): TopicScope {
  const at = text.lastIndexOf(':');
  if (at < 0) return { topic: text };
  const topic = text.slice(0, at);
  const list = text.slice(at + 1);
  const partitions = list.split(',').map((part) => part.trim());
  if (topic === '' || partitions.some((p) => !/^\d+$/.test(p) || !Number.isSafeInteger(Number(p)))) {
    throw new CliUserError(`--topic ${JSON.stringify(text)}: write a topic, or a topic and its partitions as topic:0,2`, EXIT_USAGE);
  }
  return { topic, partitions: [...new Set(partitions.map(Number))].sort((a, b) => a - b) };
}

function parseDatetime(text: string): number {
  try {
    return parseTimestampMs(text);
  } catch (error) {
    throw new CliUserError(`--to-datetime: ${(error as Error).message}`, EXIT_USAGE);
  }
}

/** Kafka's --describe: a row per partition; a note first when no member is active. */
export function formatGroupOffsets(description: GroupDescription): string {
  const rows = [...description.partitions]
    .sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition)
    .map((p) => [description.groupId, p.topic, p.partition, p.committedOffset, p.logEndOffset, p.lag, p.memberId, p.clientHost, p.clientId]);
  const note = description.members.length === 0 ? `Consumer group '${description.groupId}' has no active members.\n\n` : '';
  return note + formatTable(['GROUP', 'TOPIC', 'PARTITION', 'CURRENT-OFFSET', 'LOG-END-OFFSET', 'LAG', 'CONSUMER-ID', 'HOST', 'CLIENT-ID'], rows);
}

/** Kafka's --describe --members (with its --verbose ASSIGNMENT column). */
export function formatGroupMembers(description: GroupDescription): string {
  if (description.members.length === 0) return `Consumer group '${description.groupId}' has no active members.\n`;
  const rows = description.members.map((m) => {
    const assigned = typeof m.assignment === 'string' ? null : m.assignment;
    const partitionCount = assigned === null ? null : assigned.reduce((sum, t) => sum + t.partitions.length, 0);
    const shown = assigned === null ? '(not a consumer group)' : assigned.map((t) => `${t.topic}(${t.partitions.join(',')})`).join(',');
    return [description.groupId, m.memberId, m.clientHost, m.clientId, partitionCount, shown === '' ? null : shown];
  });
  return formatTable(['GROUP', 'CONSUMER-ID', 'HOST', 'CLIENT-ID', '#PARTITIONS', 'ASSIGNMENT'], rows);
}

/** Kafka's --describe --state. */
export function formatGroupState(description: GroupDescription): string {
  return formatTable(['GROUP', 'ASSIGNMENT-STRATEGY', 'STATE', '#MEMBERS', 'GENERATION', 'TOTAL-LAG'], [[
    description.groupId, description.protocol === '' ? null : description.protocol, description.state, description.members.length, description.generationId, description.totalLag,
  ]]);
}
