/**
 * Temporary directories for benchmark data, on a real disk, removed afterwards.
 *
 * Appends and recovery must be measured on the filesystem a broker would use: on tmpfs an fsync
 * costs nothing and every "disk" figure would be a memory figure. So the directory goes under
 * os.tmpdir() only if that is not tmpfs; otherwise under bench/results/tmp/ in the repository
 * (git-ignored). Every directory made here is removed when the benchmark is done with it, and, as
 * a last resort, when the process exits or is interrupted.
 */

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** statfs f_type values (linux/magic.h) of the filesystems one is likely to meet. */
const FILESYSTEM_NAMES: ReadonlyMap<number, string> = new Map([
  [0xef53, 'ext4'],
  [0x58465342, 'xfs'],
  [0x9123683e, 'btrfs'],
  [0x2fc12fc1, 'zfs'],
  [0xf2f52010, 'f2fs'],
  [0x01021994, 'tmpfs'],
  [0x794c7630, 'overlayfs'],
  [0x6969, 'nfs'],
]);
const TMPFS = 0x01021994;

const repositoryRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const liveDirs = new Set<string>();
let isCleanupInstalled = false;

export interface BenchDir {
  readonly path: string;
  remove(): void;
}

/** The directory benchmark data goes under (see above), created if needed. */
export function benchDataRoot(): string {
  const tmp = os.tmpdir();
  if (fs.statfsSync(tmp).type !== TMPFS) return tmp;
  const fallback = path.join(repositoryRoot, 'bench', 'results', 'tmp');
  fs.mkdirSync(fallback, { recursive: true });
  return fallback;
}

/** `ext4`, `xfs`, … or the hex type when unknown: printed with the results. */
export function filesystemOf(dir: string): string {
  const type = fs.statfsSync(dir).type;
  return FILESYSTEM_NAMES.get(type) ?? `0x${type.toString(16)}`;
}

export function createBenchDir(label: string): BenchDir {
  installCleanup();
  const dir = fs.mkdtempSync(path.join(benchDataRoot(), `minikafka-bench-${label}-`));
  liveDirs.add(dir);
  return {
    path: dir,
    remove() {
      fs.rmSync(dir, { recursive: true, force: true });
      liveDirs.delete(dir);
    },
  };
}

/** Gigabytes left behind by an interrupted run would fill the disk over a few runs. */
function installCleanup(): void {
  if (isCleanupInstalled) return;
  isCleanupInstalled = true;
  const removeAll = (): void => {
    for (const dir of liveDirs) fs.rmSync(dir, { recursive: true, force: true });
    liveDirs.clear();
  };
  process.on('exit', removeAll);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      removeAll();
      process.exit(128 + os.constants.signals[signal]);
    });
  }
}
