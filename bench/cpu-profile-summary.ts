/**
 * Prints where a V8 CPU profile spent its time: self time per function, largest first, as a share
 * of the samples. Used to explain a benchmark figure (bench/README.md), e.g.
 *
 *   node --cpu-prof --cpu-prof-dir=bench/results/tmp --import tsx bench/run.ts --quick append
 *   node --import tsx bench/cpu-profile-summary.ts [--top=25] bench/results/tmp/CPU.*.cpuprofile
 *   … --inclusive               time per function with everything it called
 *   … --callers=crc32c --depth=4   the call paths that led to crc32c's samples
 *
 * (With tsx, node writes one profile per thread: tsx's loader thread has one too, a small one.)
 *
 * A .cpuprofile is a tree of call frames (`nodes`) plus the node each sample landed in
 * (`samples`) and the time before each sample (`timeDeltas`, µs). Self time of a function is the
 * time of the samples that landed in it, summed over every place it was called from.
 */

import fs from 'node:fs';
import path from 'node:path';

interface CallFrame {
  readonly functionName: string;
  readonly url: string;
  readonly lineNumber: number;
}
interface ProfileNode {
  readonly id: number;
  readonly callFrame: CallFrame;
  readonly children?: readonly number[];
}
interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

function nameOf(frame: CallFrame): string {
  const where = frame.url === '' ? '' : ` ${path.basename(frame.url)}:${frame.lineNumber + 1}`;
  return `${frame.functionName || '(anonymous)'}${where}`;
}

/**
 * Self time per function; or, with `callersOf`, the call paths (up to `depth` callers) that led
 * to the samples of the functions whose name contains it; or, with `inclusive`, the time of each
 * function with everything it called (each sample counted once per function on its stack).
 */
function summarize(file: string, top: number, options: { callersOf?: string; depth: number; inclusive: boolean }): string {
  const profile = JSON.parse(fs.readFileSync(file, 'utf8')) as CpuProfile;
  const nodeOf = new Map(profile.nodes.map((node) => [node.id, node]));
  const parentOf = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parentOf.set(child, node.id);
  const timeUs = new Map<string, number>();
  let totalUs = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const deltaUs = profile.timeDeltas[i] ?? 0;
    totalUs += deltaUs;
    const leaf = nodeOf.get(profile.samples[i])!;
    const names: string[] = [];
    if (options.inclusive) {
      const seen = new Set<string>();
      for (let id: number | undefined = leaf.id; id !== undefined; id = parentOf.get(id)) seen.add(nameOf(nodeOf.get(id)!.callFrame));
      names.push(...seen);
    } else if (options.callersOf !== undefined) {
      if (!nameOf(leaf.callFrame).includes(options.callersOf)) continue;
      const stack: string[] = [];
      for (let id: number | undefined = leaf.id; id !== undefined && stack.length <= options.depth; id = parentOf.get(id)) stack.push(nameOf(nodeOf.get(id)!.callFrame));
      names.push(stack.join(' ← '));
    } else {
      names.push(nameOf(leaf.callFrame));
    }
    for (const name of names) timeUs.set(name, (timeUs.get(name) ?? 0) + deltaUs);
  }
  const rows = [...timeUs].sort((a, b) => b[1] - a[1]).slice(0, top);
  const lines = rows.map(([name, us]) => `${((100 * us) / totalUs).toFixed(1).padStart(5)} %  ${(us / 1000).toFixed(0).padStart(7)} ms  ${name}`);
  return [`${path.basename(file)}: ${(totalUs / 1e6).toFixed(1)} s sampled`, ...lines].join('\n');
}

const args = process.argv.slice(2);
const option = (name: string): string | undefined => args.find((arg) => arg.startsWith(`--${name}=`))?.slice(name.length + 3);
const files = args.filter((arg) => !arg.startsWith('--'));
if (files.length === 0) {
  console.error('usage: node --import tsx bench/cpu-profile-summary.ts [--top=25] [--inclusive | --callers=<name> [--depth=4]] <file.cpuprofile>…');
  process.exit(2);
}
const options = { callersOf: option('callers'), depth: Number(option('depth') ?? 4), inclusive: args.includes('--inclusive') };
for (const file of files) console.log(summarize(file, Number(option('top') ?? 25), options) + '\n');
