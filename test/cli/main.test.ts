/**
 * What every minikafka command shares: help with examples, the version, the global --json flag,
 * exit codes (0 done, 1 could not, 2 bad command line), one `error:` line for a mistake and a
 * stack only for a bug; and bin/minikafka.js, the installed command, which runs the compiled CLI.
 */

import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { MiniKafkaError } from '../../common/errors.ts';
import { encodeRecordBatch } from '../../common/record-batch.ts';
import { CliUserError, describeError } from '../../cli/cli-errors.ts';
import type { CliContext } from '../../cli/cli-io.ts';
import { buildProgram, runCli } from '../../cli/main.ts';
import { makeTempDir } from '../helpers/temp-dir.ts';
import type { CliRun } from './cli-harness.ts';
import { runCapturing } from './cli-harness.ts';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const execFileAsync = promisify(execFile);

function run(...args: string[]): Promise<CliRun> {
  return runCapturing(args);
}

function expectOneErrorLine(stderr: string, pattern: RegExp): void {
  expect(stderr.endsWith('\n')).toBe(true);
  expect(stderr.trimEnd().split('\n')).toHaveLength(1);
  expect(stderr.trimEnd()).toMatch(pattern);
}

/** A one-batch .log written straight from the codec, enough for the global flags. */
function writeTinyLog(): string {
  const file = path.join(makeTempDir(), '00000000000000000000.log');
  fs.writeFileSync(file, encodeRecordBatch({ records: [{ key: 'k', value: 'v', timestamp: 1_700_000_000_000 }] }));
  return file;
}

describe('buildProgram()', () => {
  it('registers only the commands that work', () => {
    const context: CliContext = { io: { writeOut: () => {}, writeErr: () => {} }, exitCode: 0 };
    const program = buildProgram(context);
    expect(program.name()).toBe('minikafka');
    expect(program.commands.map((command) => command.name())).toEqual(['broker', 'dump-log', 'topic', 'produce', 'consume', 'group', 'offsets', 'bench']);
  });

  it('sets the context exit code when a command fails part way, and runs in-process', async () => {
    let stderr = '';
    const context: CliContext = { io: { writeOut: () => {}, writeErr: (text) => void (stderr += text) }, exitCode: 0 };
    await buildProgram(context).parseAsync(['dump-log', path.join(makeTempDir(), 'missing.log')], { from: 'user' });
    expect(context.exitCode).toBe(1);
    expectOneErrorLine(stderr, /^error: .*missing\.log: no such file or directory \(ENOENT\)$/);
  });
});

describe('minikafka', () => {
  it('prints help with examples on --help and exits 0', async () => {
    const { exitCode, stdout, stderr } = await run('--help');
    expect(exitCode).toBe(0);
    expect(stderr).toBe('');
    expect(stdout).toMatch(/^Usage: minikafka /);
    expect(stdout).toContain('--json');
    expect(stdout).toContain('dump-log');
    expect(stdout).toContain('Examples:\n  $ minikafka broker start');
    expect(stdout).toContain('$ minikafka dump-log ');
  });

  it('prints the help of a command with its own examples', async () => {
    const { exitCode, stdout } = await run('dump-log', '--help');
    expect(exitCode).toBe(0);
    expect(stdout).toMatch(/^Usage: minikafka dump-log \[options\] <file\.\.\.>/);
    expect(stdout).toContain('--records');
    expect(stdout).toContain('$ minikafka dump-log --json ');
  });

  it('prints the version from package.json', async () => {
    const { version } = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { version: string };
    const { exitCode, stdout } = await run('--version');
    expect(exitCode).toBe(0);
    expect(stdout).toBe(`${version}\n`);
  });

  it('exits 2 with one error line, suggestion included, for an unknown option', async () => {
    const { exitCode, stdout, stderr } = await run('dump-log', '--jsn', 'x.log');
    expect(exitCode).toBe(2);
    expect(stdout).toBe('');
    expectOneErrorLine(stderr, /^error: unknown option '--jsn' \(Did you mean --json\?\)$/);
  });

  it('exits 2 with one error line for an unknown command', async () => {
    const { exitCode, stderr } = await run('dumplog');
    expect(exitCode).toBe(2);
    expectOneErrorLine(stderr, /^error: unknown command 'dumplog'/);
  });

  it('exits 2 with one error line when dump-log is given no file', async () => {
    const { exitCode, stderr } = await run('dump-log');
    expect(exitCode).toBe(2);
    expectOneErrorLine(stderr, /^error: missing required argument 'file'$/);
  });

  it('exits 2 and shows the usage on stderr when no command is given', async () => {
    const { exitCode, stdout, stderr } = await run();
    expect(exitCode).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toMatch(/^Usage: minikafka /);
  });

  it('takes --json before or after the command name alike', async () => {
    const file = writeTinyLog();
    const before = await run('--json', 'dump-log', file);
    const after = await run('dump-log', file, '--json');
    expect(before.exitCode).toBe(0);
    expect(before.stdout).toBe(after.stdout);
    expect(JSON.parse(before.stdout)).toMatchObject({ file, kind: 'log', stopReason: 'end' });
    const text = await run('dump-log', file);
    expect(text.stdout).toMatch(/^Dumping /);
  });
});

describe('describeError()', () => {
  it('gives one line and no stack for a user mistake, a MiniKafkaError or a file error', () => {
    const user = describeError(new CliUserError('bad input\non two lines'));
    expect(user).toEqual({ line: 'error: bad input on two lines\n', stack: null, exitCode: 1 });
    const domain = describeError(new MiniKafkaError('CORRUPT_MESSAGE', 'record batch at position 7 is broken'));
    expect(domain).toEqual({ line: 'error: record batch at position 7 is broken (CORRUPT_MESSAGE)\n', stack: null, exitCode: 1 });
    let fileError: unknown;
    try {
      fs.readFileSync('/nonexistent/minikafka/file.log');
    } catch (error) {
      fileError = error;
    }
    expect(describeError(fileError)).toEqual({ line: 'error: /nonexistent/minikafka/file.log: no such file or directory (ENOENT)\n', stack: null, exitCode: 1 });
  });

  it('keeps the stack for a bug, which is not the user\'s mistake', () => {
    const described = describeError(new TypeError('x is undefined'));
    expect(described.line).toMatch(/^error: x is undefined \(this is a bug in minikafka/);
    expect(described.stack).toMatch(/^TypeError: x is undefined\n\s+at /);
    expect(described.exitCode).toBe(1);
  });
});

describe('bin/minikafka.js', () => {
  /** The bin file in a throwaway tree, with or without a stand-in for the bundled CLI. */
  function installBin(compiledMain: string | null): string {
    const root = makeTempDir();
    fs.mkdirSync(path.join(root, 'bin'));
    fs.copyFileSync(path.join(repoRoot, 'bin/minikafka.js'), path.join(root, 'bin/minikafka.js'));
    if (compiledMain !== null) {
      fs.mkdirSync(path.join(root, 'dist'), { recursive: true });
      fs.writeFileSync(path.join(root, 'dist/minikafka.mjs'), compiledMain);
    }
    fs.writeFileSync(path.join(root, 'package.json'), '{ "type": "module" }');
    return path.join(root, 'bin/minikafka.js');
  }

  it('tells the user to build when dist/ is missing, in one line, and exits 1', async () => {
    const bin = installBin(null);
    const failure = await execFileAsync(process.execPath, [bin, 'dump-log', 'x.log']).then(
      () => expect.fail('the bin exited 0 without a build'),
      (error: { code: number; stdout: string; stderr: string }) => error,
    );
    expect(failure.code).toBe(1);
    expectOneErrorLine(failure.stderr, /^error: .*run `npm run build`/);
  });

  it('hands its arguments to the compiled main() and keeps the exit code it sets', async () => {
    const bin = installBin('export async function main(args) { process.stdout.write(JSON.stringify(args)); process.exitCode = 3; }\n');
    const failure = await execFileAsync(process.execPath, [bin, 'dump-log', '--json', 'a.log']).then(
      () => expect.fail('the exit code set by main() was lost'),
      (error: { code: number; stdout: string }) => error,
    );
    expect(failure.code).toBe(3);
    expect(JSON.parse(failure.stdout)).toEqual(['dump-log', '--json', 'a.log']);
  });

  it('is an executable node script', () => {
    const source = fs.readFileSync(path.join(repoRoot, 'bin/minikafka.js'), 'utf8');
    expect(source.startsWith('#!/usr/bin/env node\n')).toBe(true);
    expect(fs.statSync(path.join(repoRoot, 'bin/minikafka.js')).mode & 0o111).not.toBe(0);
  });
});

describe('the bundled CLI (dist/minikafka.mjs)', () => {
  it('runs when built, as `npx minikafka` does', async () => {
    const bundle = path.join(repoRoot, 'dist/minikafka.mjs');
    if (!fs.existsSync(bundle)) await execFileAsync('npm', ['run', '-s', 'build'], { cwd: repoRoot });
    const { stdout } = await execFileAsync(process.execPath, [path.join(repoRoot, 'bin/minikafka.js'), '--version']);
    expect(stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });
});
