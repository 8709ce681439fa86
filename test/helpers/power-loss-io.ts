/**
 * A FileIo for crash tests that remembers what each fsync made durable, so a test can pull the
 * plug: `simulatePowerLoss()` rewrites the directory tree to what a disk would hold after the
 * power went out, and the storage engine is then reopened on it with plain `node:fs`.
 *
 * The model (strict, like a journaling filesystem that promises nothing beyond fsync):
 *
 * - A file is identified by its inode (`fstat(fd).ino`), so a rename keeps its identity and its
 *   durable content. A file created through `open` or a directory created through `mkdir` gets
 *   a fresh identity even if the kernel reuses the inode number of a deleted one.
 * - A file's durable content is its whole content at the moment of its last completed
 *   `fsync(fd)`: the bytes are captured when fsync is called and become durable when it resolves.
 *   A file never fsynced is empty after the loss (if its name survives at all).
 * - A directory's durable entries (name → identity) are its entries at the moment of its last
 *   completed `fsyncDir`. A directory never fsynced has no durable entries: whatever was created,
 *   renamed or deleted in it since is undone.
 * - The root directory given to the constructor survives, and so does everything under it at
 *   construction time, as it was then: what is on the disk when the test starts watching is durable.
 *
 * The loss rebuilds the tree from the root down: each directory holds exactly its durable
 * entries, each file its identity's durable content; everything else under the root is removed.
 *
 * Limits, so a test does not read more into a pass than there is:
 * - Stricter than ext4 (data=ordered) on data: there, bytes written without fsync often survive
 *   because the kernel writes dirty pages back within seconds. Here they never do.
 * - Kinder than a real disk on tearing: content is all-or-nothing per fsync, never a torn sector
 *   or a partially written page. Torn tails are tested separately, by cutting files at random.
 * - No ordering between files: fsyncing file A says nothing about file B.
 * - A rename across two directories of which only one was fsynced leaves the file under both
 *   names (a real journal makes the rename atomic; we do not model the journal).
 * - Metadata other than names and content (sizes from ftruncate, mtimes, modes) is only durable
 *   as part of the content captured by fsync.
 * - Once the power is off, every call on this object throws, so timers of the dropped log objects
 *   cannot touch the rebuilt files. Open a new PowerLossIo on the same root for a second round.
 */

import assert from 'node:assert';
import fs from 'node:fs';
import path from 'node:path';
import type { FileIo } from '../../broker/storage/file-io.ts';
import { nodeFileIo } from '../../broker/storage/file-io.ts';

type Identity = number;

interface DurableEntry {
  readonly identity: Identity;
  readonly isDirectory: boolean;
}

/** The tree as it will be rebuilt: a file's content, or a directory's children. */
type RebuiltNode = { readonly content: Buffer } | { readonly children: Map<string, RebuiltNode> };

/** Deeper trees than this are a bug in the model (a directory inside itself), not a data dir. */
const MAX_TREE_DEPTH = 16;

export class PowerLossIo implements FileIo {
  readonly root: string;
  readonly #inner: FileIo;
  /** Live inode number → identity of the file or directory that has it now. */
  readonly #identityOfInode = new Map<number, Identity>();
  readonly #durableContent = new Map<Identity, Buffer>();
  readonly #durableEntries = new Map<Identity, Map<string, DurableEntry>>();
  readonly #openFds = new Set<number>();
  readonly #rootIdentity: Identity;
  #nextIdentity = 1;
  #isPowerOn = true;

  /** `root` must exist; everything under it now counts as durable. */
  constructor(root: string, inner: FileIo = nodeFileIo) {
    assert(fs.statSync(root).isDirectory(), `power-loss root ${root} is not a directory`);
    this.root = path.resolve(root);
    this.#inner = inner;
    this.#rootIdentity = this.#recordExistingTree(this.root, 0);
  }

  get isPowerOn(): boolean {
    return this.#isPowerOn;
  }

  /** File descriptors opened through this object and not closed yet. */
  get openFdCount(): number {
    return this.#openFds.size;
  }

  open(filePath: string, flags: string): number {
    this.#assertPowerOn();
    const existed = fs.existsSync(filePath);
    const fd = this.#inner.open(filePath, flags);
    this.#openFds.add(fd);
    const inode = fs.fstatSync(fd).ino;
    if (!existed || !this.#identityOfInode.has(inode)) this.#identityOfInode.set(inode, this.#newIdentity());
    return fd;
  }

  write(fd: number, buffer: Uint8Array, offset: number, length: number, position: number): void {
    this.#assertPowerOn();
    this.#inner.write(fd, buffer, offset, length, position);
  }

  read(fd: number, buffer: Uint8Array, offset: number, length: number, position: number): number {
    this.#assertPowerOn();
    return this.#inner.read(fd, buffer, offset, length, position);
  }

  sizeOf(fd: number): number {
    this.#assertPowerOn();
    return this.#inner.sizeOf(fd);
  }

  truncate(fd: number, length: number): void {
    this.#assertPowerOn();
    this.#inner.truncate(fd, length);
  }

  /** Captures the content now; it becomes durable only if the real fsync completes before the loss. */
  async fsync(fd: number): Promise<void> {
    this.#assertPowerOn();
    const identity = this.#identityOfFd(fd);
    const content = readAll(fd);
    await this.#inner.fsync(fd);
    if (this.#isPowerOn) this.#durableContent.set(identity, content);
  }

  close(fd: number): void {
    this.#assertPowerOn();
    this.#openFds.delete(fd);
    this.#inner.close(fd);
  }

  /** Captures the entries now; they become durable only if the real fsync completes before the loss. */
  async fsyncDir(dirPath: string): Promise<void> {
    this.#assertPowerOn();
    const identity = this.#identityOfPath(dirPath);
    const entries = this.#currentEntries(dirPath);
    await this.#inner.fsyncDir(dirPath);
    if (this.#isPowerOn) this.#durableEntries.set(identity, entries);
  }

  rename(from: string, to: string): void {
    this.#assertPowerOn();
    this.#inner.rename(from, to);
  }

  unlink(filePath: string): void {
    this.#assertPowerOn();
    this.#inner.unlink(filePath);
  }

  mkdir(dirPath: string): void {
    this.#assertPowerOn();
    const created: string[] = [];
    for (let dir = path.resolve(dirPath); !fs.existsSync(dir); dir = path.dirname(dir)) created.push(dir);
    this.#inner.mkdir(dirPath);
    for (const dir of created) this.#identityOfInode.set(fs.statSync(dir).ino, this.#newIdentity());
  }

  readdir(dirPath: string): string[] {
    this.#assertPowerOn();
    return this.#inner.readdir(dirPath);
  }

  exists(filePath: string): boolean {
    this.#assertPowerOn();
    return this.#inner.exists(filePath);
  }

  removeDir(dirPath: string): void {
    this.#assertPowerOn();
    this.#inner.removeDir(dirPath);
  }

  /** Closes every descriptor opened through this object, as the kernel does when the machine dies. */
  closeAllOpenFds(): void {
    for (const fd of this.#openFds) {
      try {
        fs.closeSync(fd);
      } catch {
        // Already closed behind our back: nothing left to release.
      }
    }
    this.#openFds.clear();
  }

  /**
   * Pulls the plug: closes every open descriptor, turns this object off (every later call throws)
   * and rewrites the tree under the root to its durable state. Call it after dropping every
   * reference to the log objects, without closing them: a close would flush.
   */
  simulatePowerLoss(): void {
    this.#assertPowerOn();
    this.#isPowerOn = false;
    this.closeAllOpenFds();
    const rebuilt = this.#durableTree(this.#rootIdentity, new Set(), 0);
    assert('children' in rebuilt);
    for (const name of fs.readdirSync(this.root)) fs.rmSync(path.join(this.root, name), { recursive: true, force: true });
    writeTree(this.root, rebuilt.children);
  }

  #durableTree(identity: Identity, onPath: Set<Identity>, depth: number): RebuiltNode {
    assert(depth <= MAX_TREE_DEPTH, 'durable tree too deep');
    const children = new Map<string, RebuiltNode>();
    onPath.add(identity);
    for (const [name, entry] of this.#durableEntries.get(identity) ?? []) {
      if (!entry.isDirectory) children.set(name, { content: this.#durableContent.get(entry.identity) ?? Buffer.alloc(0) });
      else if (!onPath.has(entry.identity)) children.set(name, this.#durableTree(entry.identity, onPath, depth + 1));
    }
    onPath.delete(identity);
    return { children };
  }

  /** Registers the tree under `dir` as durable as it is; returns the directory's identity. */
  #recordExistingTree(dir: string, depth: number): Identity {
    assert(depth <= MAX_TREE_DEPTH, `tree under ${this.root} too deep`);
    const identity = this.#newIdentity();
    this.#identityOfInode.set(fs.statSync(dir).ino, identity);
    const entries = new Map<string, DurableEntry>();
    for (const dirent of fs.readdirSync(dir, { withFileTypes: true })) {
      const child = path.join(dir, dirent.name);
      if (dirent.isDirectory()) {
        entries.set(dirent.name, { identity: this.#recordExistingTree(child, depth + 1), isDirectory: true });
      } else if (dirent.isFile()) {
        const childIdentity = this.#newIdentity();
        this.#identityOfInode.set(fs.statSync(child).ino, childIdentity);
        this.#durableContent.set(childIdentity, fs.readFileSync(child));
        entries.set(dirent.name, { identity: childIdentity, isDirectory: false });
      }
    }
    this.#durableEntries.set(identity, entries);
    return identity;
  }

  #currentEntries(dirPath: string): Map<string, DurableEntry> {
    const entries = new Map<string, DurableEntry>();
    for (const dirent of fs.readdirSync(dirPath, { withFileTypes: true })) {
      if (!dirent.isDirectory() && !dirent.isFile()) continue;
      const identity = this.#identityOfPath(path.join(dirPath, dirent.name));
      entries.set(dirent.name, { identity, isDirectory: dirent.isDirectory() });
    }
    return entries;
  }

  #identityOfFd(fd: number): Identity {
    return this.#identityOfInodeOrNew(fs.fstatSync(fd).ino);
  }

  #identityOfPath(filePath: string): Identity {
    return this.#identityOfInodeOrNew(fs.statSync(filePath).ino);
  }

  /** A file that did not come through open() or mkdir() (made by another library) is new to us. */
  #identityOfInodeOrNew(inode: number): Identity {
    let identity = this.#identityOfInode.get(inode);
    if (identity === undefined) {
      identity = this.#newIdentity();
      this.#identityOfInode.set(inode, identity);
    }
    return identity;
  }

  #newIdentity(): Identity {
    const identity = this.#nextIdentity;
    this.#nextIdentity += 1;
    return identity;
  }

  #assertPowerOn(): void {
    if (!this.#isPowerOn) throw new Error(`the power is off under ${this.root}: this PowerLossIo simulated a power loss; open a new one`);
  }
}

/** The whole content of an open file, read through its descriptor (every fd here is opened with read access). */
function readAll(fd: number): Buffer {
  const sizeBytes = fs.fstatSync(fd).size;
  const content = Buffer.alloc(sizeBytes);
  let done = 0;
  while (done < sizeBytes) {
    const n = fs.readSync(fd, content, done, sizeBytes - done, done);
    if (n === 0) break;
    done += n;
  }
  return content.subarray(0, done);
}

function writeTree(dir: string, children: Map<string, RebuiltNode>): void {
  for (const [name, node] of children) {
    const child = path.join(dir, name);
    if ('content' in node) fs.writeFileSync(child, node.content);
    else {
      fs.mkdirSync(child);
      writeTree(child, node.children);
    }
  }
}
