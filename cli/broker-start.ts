/**
 * `minikafka broker start`: the broker as a server process (what `npm start` runs).
 *
 * It prints where it listens and its data directory, logs lifecycle events as pino JSON lines,
 * and runs until SIGINT or SIGTERM, which trigger a clean stop: no new requests, requests in
 * flight finish, every log is flushed, the clean-shutdown marker is written, the lock released,
 * exit 0. A second signal while stopping exits at once with code 1 (the next start recovers).
 */

import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { DEFAULT_DATA_DIR } from '../broker/config/config-definitions.ts';
import { parseConfigArg } from '../broker/config/broker-config.ts';
import { createBrokerLogger, startBroker } from '../broker/broker.ts';
import type { CliContext } from './cli-io.ts';
import { collect } from './option-parsers.ts';

export const DEFAULT_HTTP_PORT = 8082;
export const DEFAULT_KAFKA_PORT = 9092;

const examples = `
Examples:
  $ minikafka broker start
  $ minikafka broker start --data-dir /tmp/mk --http-port 18082
  $ minikafka broker start --config num.partitions=3 --config log.flush.interval.messages=1
  $ minikafka broker start --config-file server.properties --log-level warn`;

interface StartOptions {
  dataDir?: string;
  host: string;
  httpPort: number;
  kafkaPort: number;
  config: string[];
  configFile?: string;
  logLevel: string;
  json?: boolean;
}

export function registerBrokerStart(program: Command, context: CliContext): void {
  const broker = program.command('broker').description('run a broker');
  broker
    .command('start')
    .description('start a broker on this machine and run until SIGINT or SIGTERM')
    .option('--data-dir <dir>', `where the logs live (default: log.dirs or log.dir, else ${DEFAULT_DATA_DIR})`)
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--http-port <port>', 'HTTP API port (0: any free port)', parsePort, DEFAULT_HTTP_PORT)
    .option('--kafka-port <port>', 'Kafka protocol port, for the Kafka listener (not available yet)', parsePort, DEFAULT_KAFKA_PORT)
    .option('--config <name=value>', "a broker config under Kafka's name; repeatable", collect, [])
    .option('--config-file <file>', 'a server.properties-style file, applied before --config')
    .option('--log-level <level>', 'pino log level: fatal, error, warn, info, debug', 'info')
    .addHelpText('after', examples)
    .action(async (_options: unknown, command: Command) => {
      const options = command.optsWithGlobals<StartOptions>();
      await runBroker(options, context);
    });
}

async function runBroker(options: StartOptions, context: CliContext): Promise<void> {
  const logger = createBrokerLogger(options.logLevel);
  const running = await startBroker({
    dataDir: options.dataDir,
    isDataDirTemporary: false,
    host: options.host,
    httpPort: options.httpPort,
    config: Object.fromEntries(options.config.map((arg) => { const { name, value } = parseConfigArg(arg); return [name, value]; })),
    configFile: options.configFile,
    logger,
  });
  const summary = { url: running.url, dataDir: running.dataDir, topics: running.core.topics.list().length, kafkaListener: null as string | null };
  if (options.json === true) await context.io.writeOut(JSON.stringify(summary) + '\n');
  else {
    await context.io.writeOut(`minikafka broker listening on ${running.url} (HTTP API)\n`);
    await context.io.writeOut(`data directory: ${running.dataDir} (${summary.topics} topics)\n`);
    await context.io.writeOut(`Kafka protocol listener: not available yet (port ${options.kafkaPort} stays free)\n`);
  }
  await new Promise<void>((resolve) => {
    let isStopping = false;
    const stop = (signal: string): void => {
      if (isStopping) {
        logger.warn({ signal }, 'second signal while stopping: exiting at once; the next start recovers');
        process.exit(1);
      }
      isStopping = true;
      logger.info({ signal }, 'stopping');
      running.close().then(resolve, (error: unknown) => {
        logger.error({ error }, 'clean stop failed');
        context.exitCode = 1;
        resolve();
      });
    };
    process.on('SIGINT', () => stop('SIGINT'));
    process.on('SIGTERM', () => stop('SIGTERM'));
  });
}

function parsePort(value: string): number {
  const port = Number(value);
  if (!/^\d+$/.test(value) || port > 65535) throw new InvalidArgumentError('a port is an integer from 0 to 65535');
  return port;
}
