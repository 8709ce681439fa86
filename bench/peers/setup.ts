/**
 * The peers' servers: installs Debian's package when the binary is missing, starts the server on
 * a free 127.0.0.1 port with a temporary data directory on a real disk, waits until it answers,
 * and stops it by pid (SIGTERM, then SIGKILL after a bounded wait) and removes its data.
 *
 * Where a server cannot be had (not installed and not root, apt-get missing or failing, the
 * server not answering), the caller gets the reason as a string and the bench says so and runs
 * the rest. Every wait is bounded in count and time; nothing listens anywhere but 127.0.0.1.
 * A server still running when this process exits (Ctrl-C, a crash) is killed by pid.
 */

import { execFile, execFileSync, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import type { BenchDir } from '../tmp-dir.ts';
import { createBenchDir } from '../tmp-dir.ts';

const execFileAsync = promisify(execFile);

/** apt-get update and install: a slow mirror takes minutes, a stuck one must not hang the bench. */
const APT_TIMEOUT_MS = 5 * 60_000;
const READY_ATTEMPTS = 200;
const READY_INTERVAL_MS = 50;
const STOP_GRACE_MS = 5000;
const KILL_GRACE_MS = 2000;

export interface ServerProcess {
  readonly name: string;
  readonly pid: number;
  readonly port: number;
  readonly dataDir: string;
  /** SIGTERM, SIGKILL after STOP_GRACE_MS if it is still there, then its data directory removed. */
  stop(): Promise<void>;
}

export interface ServerSpec {
  /** How it is printed: `redis-server (AOF everysec)`. */
  readonly name: string;
  readonly binary: string;
  /** Names its data directory (`minikafka-bench-<label>-…`); default the binary's file name. */
  readonly label?: string;
  /** The command line, given the port and the data directory. */
  args(port: number, dataDir: string): string[];
  /** Resolves true once the server answers on `port`; called until it does, a bounded number of times. */
  isReady(port: number): Promise<boolean>;
}

/** Either the binary's path, or why it cannot be had. */
export type Installed = { readonly path: string } | { readonly unavailable: string };

const liveChildren = new Set<ChildProcess>();
let isExitHookInstalled = false;
let hasUpdatedPackageLists = false;

/** The path of `binary`, installing `debianPackage` with apt-get first if it is missing and we are root. */
export async function ensureInstalled(binary: string, debianPackage: string, progress: (message: string) => void): Promise<Installed> {
  const found = which(binary);
  if (found !== null) return { path: found };
  if (process.getuid?.() !== 0) return { unavailable: `${binary} is not installed (as root: apt-get install -y ${debianPackage})` };
  if (which('apt-get') === null) return { unavailable: `${binary} is not installed and there is no apt-get to install ${debianPackage} with` };
  const environment = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  try {
    if (!hasUpdatedPackageLists) {
      progress('apt-get update');
      await execFileAsync('apt-get', ['update', '-q'], { timeout: APT_TIMEOUT_MS, env: environment, maxBuffer: 16 * 2 ** 20 });
      hasUpdatedPackageLists = true;
    }
    progress(`apt-get install -y ${debianPackage}`);
    await execFileAsync('apt-get', ['install', '-y', '-q', debianPackage], { timeout: APT_TIMEOUT_MS, env: environment, maxBuffer: 16 * 2 ** 20 });
  } catch (error) {
    const stderr = String((error as { stderr?: unknown }).stderr ?? '').trim().split('\n').slice(-1)[0] ?? '';
    return { unavailable: `apt-get install ${debianPackage} failed: ${stderr || (error as Error).message}` };
  }
  const installed = which(binary);
  return installed === null ? { unavailable: `apt-get installed ${debianPackage} but ${binary} is still not on the PATH` } : { path: installed };
}

/** The first line `binary --version` prints, or null. */
export function versionOf(binary: string): string | null {
  try {
    return execFileSync(binary, ['--version'], { stdio: ['ignore', 'pipe', 'pipe'], timeout: 10_000 }).toString().split('\n')[0].trim();
  } catch {
    return null;
  }
}

/** Starts the server and waits until it answers; throws (with its last output) if it never does. */
export async function startServer(spec: ServerSpec): Promise<ServerProcess> {
  installExitHook();
  const dir: BenchDir = createBenchDir(spec.label ?? path.basename(spec.binary));
  const port = await freePort();
  const child = spawn(spec.binary, spec.args(port, dir.path), { stdio: ['ignore', 'pipe', 'pipe'] });
  liveChildren.add(child);
  // Keep the last lines of its output: the message when it refuses to start.
  let output = '';
  // BENCH_SERVER_OUTPUT=1 passes every line on to stderr (e.g. a server run with --trace-gc).
  const isForwarding = process.env.BENCH_SERVER_OUTPUT === '1';
  const keep = (chunk: Buffer): void => {
    if (isForwarding) process.stderr.write(chunk);
    output = (output + chunk.toString()).slice(-2000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let hasExited = false;
  void exited.then(() => {
    hasExited = true;
    liveChildren.delete(child);
  });
  const stop = async (): Promise<void> => {
    if (!hasExited) {
      child.kill('SIGTERM');
      if (!(await settlesWithin(exited, STOP_GRACE_MS))) {
        child.kill('SIGKILL');
        await settlesWithin(exited, KILL_GRACE_MS);
      }
    }
    dir.remove();
  };
  for (let attempt = 0; attempt < READY_ATTEMPTS && !hasExited; attempt++) {
    if (await spec.isReady(port).catch(() => false)) {
      return { name: spec.name, pid: child.pid!, port, dataDir: dir.path, stop };
    }
    await sleepMs(READY_INTERVAL_MS);
  }
  await stop();
  const why = hasExited ? 'exited' : `did not answer within ${(READY_ATTEMPTS * READY_INTERVAL_MS) / 1000} s`;
  throw new Error(`${spec.name} ${why}: ${output.trim().split('\n').slice(-3).join(' | ')}`);
}

/**
 * Opens a connection to 127.0.0.1:port, writes `request` (if any) and resolves true when the
 * bytes received so far contain `expected`; false on refusal, close or after `timeoutMs`.
 */
export function answersWith(port: number, request: string | null, expected: string, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    let received = '';
    const finish = (isReady: boolean): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(isReady);
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    socket.once('connect', () => {
      if (request !== null) socket.write(request);
    });
    socket.on('data', (chunk) => {
      received += chunk.toString();
      if (received.includes(expected)) finish(true);
    });
    socket.once('error', () => finish(false));
    socket.once('close', () => finish(false));
  });
}

/** A port nothing listens on right now (the kernel's choice for port 0). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function which(binary: string): string | null {
  try {
    return execFileSync('which', [binary], { stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim() || null;
  } catch {
    return null;
  }
}

function settlesWithin(promise: Promise<void>, timeoutMs: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs)));
  return Promise.race([promise.then(() => true), timeout]).finally(() => clearTimeout(timer));
}

function sleepMs(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A server left behind by an interrupted run would keep its port and its data directory. */
function installExitHook(): void {
  if (isExitHookInstalled) return;
  isExitHookInstalled = true;
  process.on('exit', () => {
    for (const child of liveChildren) child.kill('SIGKILL');
  });
}
