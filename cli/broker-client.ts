/**
 * How the commands that talk to a broker (topic, produce, consume, group, offsets) find it, and
 * how the SDK's errors reach the user.
 *
 * Where the broker is, first match wins:
 *
 * | source                     | example                               |
 * |----------------------------|---------------------------------------|
 * | `--broker URL`             | `--broker http://127.0.0.1:18082`     |
 * | `MINIKAFKA_BROKER`         | `MINIKAFKA_BROKER=127.0.0.1:18082`    |
 * | the default                | `http://127.0.0.1:8082`, where `minikafka broker start` listens |
 *
 * The client SDK (and undici behind it) is imported inside `connectClient()`, not at the top:
 * `minikafka broker start` runs from the same bundle, and its cold start should not pay for
 * evaluating a client it never uses.
 *
 * Every MiniKafkaClientError becomes one CliUserError line: the broker's message and its stable
 * code, or, for a broker that cannot be reached, what to do about it. Anything else is left alone
 * (a bug keeps its stack).
 */

import type { Command } from 'commander';
import type { Admin } from '../client/admin/admin.ts';
import type { MiniKafka } from '../client/client.ts';
import { MiniKafkaClientError } from '../client/errors.ts';
import { CliUserError } from './cli-errors.ts';
import { EXIT_USAGE } from './cli-io.ts';

export const DEFAULT_BROKER_URL = 'http://127.0.0.1:8082';
export const BROKER_ENV_VARIABLE = 'MINIKAFKA_BROKER';
/** Sent as x-client-id, so the broker's group descriptions show which members are this tool. */
export const CLI_CLIENT_ID = 'minikafka-cli';

/**
 * A person waits at the prompt: two quick retries cover a broker that is restarting, and a
 * broker that is not running is reported in well under a second instead of after the SDK's
 * default five retries.
 */
const CLI_RETRY = { retries: 2, retryBackoffMs: 100, retryBackoffMaxMs: 400 } as const;

export interface BrokerOptions {
  readonly broker?: string;
}

/** Adds `--broker <url>` to a command that talks to a broker. */
export function addBrokerOption(command: Command): Command {
  return command.option('--broker <url>', `the broker's HTTP address (default: $${BROKER_ENV_VARIABLE}, else ${DEFAULT_BROKER_URL})`);
}

/** The broker's address from --broker, else MINIKAFKA_BROKER, else the default. */
export function resolveBrokerUrl(options: BrokerOptions, env: NodeJS.ProcessEnv = process.env): string {
  if (options.broker !== undefined && options.broker !== '') return options.broker;
  const fromEnv = env[BROKER_ENV_VARIABLE];
  if (fromEnv !== undefined && fromEnv.trim() !== '') return fromEnv.trim();
  return DEFAULT_BROKER_URL;
}

/** A client for the broker the options name; a malformed address is a command-line mistake (exit 2). */
export async function connectClient(options: BrokerOptions): Promise<MiniKafka> {
  const url = resolveBrokerUrl(options);
  const { createClient } = await import('../client/client.ts');
  try {
    return createClient({ url, clientId: CLI_CLIENT_ID, retry: CLI_RETRY });
  } catch (error) {
    if (error instanceof MiniKafkaClientError) throw new CliUserError(`--broker: ${error.message}`, EXIT_USAGE);
    throw error;
  }
}

/**
 * Runs `work` and turns the SDK's errors into one line for the user. `brokerUrl` names the broker
 * in the advice for a connection that failed.
 */
export async function withBrokerErrors<T>(brokerUrl: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw toCliError(error, brokerUrl);
  }
}

/** Runs `work` with an admin client of the broker the options name, with withBrokerErrors, and closes it. */
export async function withAdmin<T>(options: BrokerOptions, work: (admin: Admin) => Promise<T>): Promise<T> {
  const client = await connectClient(options);
  const admin = client.admin();
  try {
    return await withBrokerErrors(resolveBrokerUrl(options), () => work(admin));
  } finally {
    await admin.close();
  }
}

/** The line a user sees for an SDK error; other errors are returned unchanged. */
export function toCliError(error: unknown, brokerUrl: string): unknown {
  if (!(error instanceof MiniKafkaClientError)) return error;
  return new CliUserError(describeClientError(error, brokerUrl));
}

export function describeClientError(error: MiniKafkaClientError, brokerUrl: string): string {
  if (error.code === 'CONNECTION_ERROR') {
    const systemCode = typeof error.details.systemCode === 'string' ? error.details.systemCode : error.code;
    return `cannot reach a broker at ${brokerUrl} (${systemCode}): start one with \`minikafka broker start\`, or give its address with --broker or ${BROKER_ENV_VARIABLE}`;
  }
  if (error.code === 'REQUEST_TIMED_OUT') return `the broker at ${brokerUrl} did not answer in time: ${error.message} (REQUEST_TIMED_OUT)`;
  if (error.code === 'UNEXPECTED_RESPONSE') return `${brokerUrl} does not answer like a minikafka broker: ${error.message} (UNEXPECTED_RESPONSE)`;
  return `${error.message} (${error.code})`;
}
