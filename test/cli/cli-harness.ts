/**
 * What the CLI tests share: running the command in this process (runCli) with its output
 * captured instead of written to the terminal.
 */

import { runCli } from '../../cli/main.ts';

export interface CliRun {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** `minikafka ARGS…`, its exit code and everything it printed on each stream. */
export async function runCapturing(args: readonly string[]): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const exitCode = await runCli([...args], { writeOut: (text) => void (stdout += text), writeErr: (text) => void (stderr += text) });
  return { exitCode, stdout, stderr };
}
