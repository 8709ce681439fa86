/**
 * The `minikafka` command: a commander program with one sub-command per task.
 *
 * What every command shares:
 * - `--json` (global, before or after the command name): machine-readable output for scripts;
 *   without it, output is for people;
 * - exit codes 0 (done), 1 (could not: missing file, MiniKafkaError, bug), 2 (bad command line);
 * - a mistake prints one `error: …` line on stderr and no stack trace (cli-errors.ts);
 * - `--help` on the program and on each command, with examples.
 *
 * `buildProgram()` returns the program without running it, writing through the CliIo it is given,
 * so tests run commands in-process; `runCli()` runs it and returns the exit code; `main()` is what
 * bin/minikafka.js calls, and what runs when this file is executed directly.
 */

import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError } from 'commander';
import { describeError } from './cli-errors.ts';
import type { CliContext, CliIo } from './cli-io.ts';
import { EXIT_OK, EXIT_USAGE, processIo } from './cli-io.ts';
import { registerBench } from './bench.ts';
import { registerBrokerStart } from './broker-start.ts';
import { registerConsume } from './consume.ts';
import { registerDumpLog } from './dump-log.ts';
import { registerGroup } from './group.ts';
import { registerOffsets } from './offsets.ts';
import { registerProduce } from './produce.ts';
import { registerTopic } from './topic.ts';

const examples = `
Examples:
  $ minikafka broker start
  $ minikafka broker start --data-dir /tmp/mk --config log.flush.interval.messages=1
  $ minikafka topic create orders --partitions 3
  $ echo 'alice:{"total":12}' | minikafka produce orders --key-separator :
  $ minikafka consume orders --group billing --from-beginning
  $ minikafka group describe billing
  $ minikafka offsets orders
  $ minikafka dump-log data/orders-0/00000000000000000000.log
  $ minikafka dump-log --records --json data/orders-0/00000000000000000000.log
  $ minikafka help dump-log`;

/** Builds the program; `context.exitCode` is set by commands that fail part way. */
export function buildProgram(context: CliContext): Command {
  const program = new Command('minikafka')
    .description('A Kafka-like broker for local development and for learning what Kafka guarantees.')
    .version(readVersion(), '-V, --version', 'print the version')
    .option('--json', 'print JSON for scripts instead of text for people')
    .addHelpText('after', examples)
    .configureHelp({ showGlobalOptions: true })
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({
      writeOut: (text) => context.io.writeOut(text),
      writeErr: (text) => context.io.writeErr(text),
      // Commander puts its "(Did you mean …?)" on a second line; keep the error to one.
      outputError: (text, write) => write(`${text.replace(/\s*\n\s*(?=\S)/g, ' ').trimEnd()}\n`),
    });
  // Commands added from here on inherit exitOverride and the output configuration.
  registerBrokerStart(program, context);
  registerDumpLog(program, context);
  registerTopic(program, context);
  registerProduce(program, context);
  registerConsume(program, context);
  registerGroup(program, context);
  registerOffsets(program, context);
  registerBench(program, context);
  return program;
}

/** Runs `minikafka <args>` (args without `node` and the script) and returns the exit code. */
export async function runCli(args: ReadonlyArray<string>, io: CliIo): Promise<number> {
  const context: CliContext = { io, exitCode: EXIT_OK };
  const program = buildProgram(context);
  try {
    await program.parseAsync([...args], { from: 'user' });
    return context.exitCode;
  } catch (error) {
    if (error instanceof CommanderError) return commanderExitCode(error);
    const described = describeError(error);
    io.writeErr(described.line);
    if (described.stack !== null) io.writeErr(described.stack);
    return described.exitCode;
  }
}

/**
 * Commander has already printed its message (or the help, or the version) when it throws. Its
 * exit code is 0 for --help and --version and 1 for everything else, all of which are mistakes
 * on the command line (unknown option or command, missing argument, no command at all).
 */
function commanderExitCode(error: CommanderError): number {
  return error.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
}

export async function main(args: ReadonlyArray<string> = process.argv.slice(2)): Promise<void> {
  // `minikafka dump-log … | head` closes the pipe early: stop quietly, as other Unix tools do.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(EXIT_OK);
    throw error;
  });
  process.exitCode = await runCli(args, processIo);
}

/** package.json sits at the repository root: one level up from cli/, two from dist/cli/. */
function readVersion(): string {
  for (const relative of ['../package.json', '../../package.json']) {
    const file = fileURLToPath(new URL(relative, import.meta.url));
    if (!fs.existsSync(file)) continue;
    const { name, version } = JSON.parse(fs.readFileSync(file, 'utf8')) as { name?: string; version?: string };
    if (name === 'minikafka' && typeof version === 'string') return version;
  }
  return 'unknown';
}

function isEntryPoint(): boolean {
  const script = process.argv[1];
  if (script === undefined) return false;
  try {
    return fs.realpathSync(script) === fs.realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isEntryPoint()) await main();
