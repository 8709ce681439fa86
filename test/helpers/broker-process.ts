/**
 * `minikafka broker start` as a real child process, for tests that kill it or send it signals.
 */

import { spawn } from 'node:child_process';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import path from 'node:path';
import readline from 'node:readline';

const cliMain = path.resolve(import.meta.dirname, '../../cli/main.ts');

export interface BrokerProcess {
  readonly child: ChildProcessWithoutNullStreams;
  readonly url: string;
  /** Resolves with the exit code (or the signal's name) when the process ends. */
  readonly exited: Promise<number | string>;
  /** Everything written to stderr so far. */
  stderr(): string;
}

/** Starts a broker on a free port with `--json` and waits for its summary line. */
export async function startBrokerProcess(dataDir: string, extraArgs: string[] = []): Promise<BrokerProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', cliMain, '--json', 'broker', 'start', '--data-dir', dataDir, '--http-port', '0', '--log-level', 'warn', ...extraArgs], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | string>((resolve) => child.on('exit', (code, signal) => resolve(code ?? signal ?? -1)));
  const lines = readline.createInterface({ input: child.stdout });
  const url = await new Promise<string>((resolve, reject) => {
    lines.on('line', (line) => {
      if (!line.startsWith('{"url"')) return;
      resolve((JSON.parse(line) as { url: string }).url);
    });
    void exited.then((code) => reject(new Error(`broker exited with ${code} before it was ready: ${stderr}`)));
  });
  return { child, url, exited, stderr: () => stderr };
}
