/**
 * The data directory lock: one broker per directory, or two brokers would interleave appends to
 * the same files and destroy both logs.
 *
 * proper-lockfile takes the lock by creating `<data dir>/.lock` (mkdir is atomic) and keeps its
 * mtime fresh while the process lives. A process killed with SIGKILL cannot remove it, and
 * proper-lockfile would call it stale only after 10 s; so the owner's pid is written inside, and a
 * lock whose owner is no longer running is taken over at once. A live owner means failure at
 * once, naming the directory and the pid.
 *
 * The pid lives beside the lock (`.lock.owner`), not inside it: a file created inside would
 * change the lock directory's mtime, which proper-lockfile watches to detect a compromised lock.
 */

import fs from 'node:fs';
import path from 'node:path';
import lockfile from 'proper-lockfile';
import { MiniKafkaError } from '../../common/errors.ts';

const LOCK_NAME = '.lock';
const OWNER_FILE = '.lock.owner';

export interface DataDirLock {
  release(): void;
}

/** `staleMs`: how old an un-refreshed lock must be before proper-lockfile calls it stale (min 2000). */
export function lockDataDir(dataDir: string, onCompromised: (error: Error) => void, staleMs = 10_000): DataDirLock {
  const lockPath = path.join(dataDir, LOCK_NAME);
  const options = { realpath: false, lockfilePath: lockPath, onCompromised, stale: staleMs };
  let release: () => void;
  try {
    release = lockfile.lockSync(dataDir, options);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ELOCKED') throw error;
    const owner = readOwner(dataDir);
    if (owner !== null && owner !== process.pid && isRunning(owner)) {
      throw new MiniKafkaError('LOG_DIR_LOCKED', `data directory ${dataDir} is in use by another broker (pid ${owner}); stop it or choose another --data-dir`, { dataDir, pid: owner });
    }
    if (owner === process.pid || owner === null) {
      throw new MiniKafkaError('LOG_DIR_LOCKED', `data directory ${dataDir} is already locked${owner === process.pid ? ' by this process' : ''}`, { dataDir, pid: owner });
    }
    // The owner died without releasing the lock (kill -9, power loss): take it over.
    fs.rmSync(lockPath, { recursive: true, force: true });
    release = lockfile.lockSync(dataDir, options);
  }
  fs.writeFileSync(path.join(dataDir, OWNER_FILE), String(process.pid));
  return {
    release() {
      fs.rmSync(path.join(dataDir, OWNER_FILE), { force: true });
      release();
    },
  };
}

function readOwner(dataDir: string): number | null {
  try {
    const pid = Number(fs.readFileSync(path.join(dataDir, OWNER_FILE), 'utf8'));
    return Number.isSafeInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
