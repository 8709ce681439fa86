/**
 * Prints where a V8 CPU profile spent its time: self time per function, largest first, as a share
 * of the samples. Used to explain a benchmark figure (bench/README.md), e.g.
 *
 *   node --cpu-prof --cpu-prof-dir=bench/results/tmp --import tsx bench/run.ts --quick append
 *   node --import tsx bench/cpu-profile-summary.ts [--top=25] bench/results/tmp/CPU.*.cpuprofile
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
}
interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

function summarize(file: string, top: number): string {
  const profile = JSON.parse(fs.readFileSync(file, 'utf8')) as CpuProfile;
  const frameOf = new Map(profile.nodes.map((node) => [node.id, node.callFrame]));
  const selfUs = new Map<string, number>();
  let totalUs = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const frame = frameOf.get(profile.samples[i])!;
    const where = frame.url === '' ? '' : ` ${path.basename(frame.url)}:${frame.lineNumber + 1}`;
    const name = `${frame.functionName || '(anonymous)'}${where}`;
    const deltaUs = profile.timeDeltas[i] ?? 0;
    selfUs.set(name, (selfUs.get(name) ?? 0) + deltaUs);
    totalUs += deltaUs;
  }
  const rows = [...selfUs].sort((a, b) => b[1] - a[1]).slice(0, top);
  const lines = rows.map(([name, us]) => `${((100 * us) / totalUs).toFixed(1).padStart(5)} %  ${(us / 1000).toFixed(0).padStart(7)} ms  ${name}`);
  return [`${path.basename(file)}: ${(totalUs / 1e6).toFixed(1)} s sampled`, ...lines].join('\n');
}

const args = process.argv.slice(2);
const topArg = args.find((arg) => arg.startsWith('--top='));
const files = args.filter((arg) => !arg.startsWith('--'));
if (files.length === 0) {
  console.error('usage: node --import tsx bench/cpu-profile-summary.ts [--top=25] <file.cpuprofile>…');
  process.exit(2);
}
for (const file of files) console.log(summarize(file, topArg === undefined ? 25 : Number(topArg.slice('--top='.length))) + '\n');
