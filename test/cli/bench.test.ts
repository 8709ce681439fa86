/**
 * `minikafka bench`: what it runs and where from. The benchmark itself is never run here (tests
 * never measure speed); `npm run bench -- compare` and `minikafka bench` run it by hand.
 */

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { benchRunnerArgs, findRepositoryRoot } from '../../cli/bench.ts';
import { makeTempDir } from '../helpers/temp-dir.ts';

const repositoryRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

describe('benchRunnerArgs()', () => {
  it('runs the comparison through bench/run.ts with tsx and saves its results', () => {
    expect(benchRunnerArgs({ quick: false, json: false })).toEqual(['--import', 'tsx', 'bench/run.ts', 'compare', '--save']);
  });

  it('passes --quick and --json on', () => {
    expect(benchRunnerArgs({ quick: true, json: true })).toEqual(['--import', 'tsx', 'bench/run.ts', 'compare', '--save', '--quick', '--json']);
  });
});

describe('findRepositoryRoot()', () => {
  it('finds the checkout from cli/ and from dist/cli/', () => {
    expect(findRepositoryRoot(path.join(repositoryRoot, 'cli'))).toBe(repositoryRoot);
    expect(findRepositoryRoot(path.join(repositoryRoot, 'dist', 'cli'))).toBe(repositoryRoot);
  });

  it('returns null outside a minikafka checkout, even beside a bench/run.ts of another package', () => {
    const dir = makeTempDir();
    fs.mkdirSync(path.join(dir, 'bench'));
    fs.writeFileSync(path.join(dir, 'bench', 'run.ts'), '');
    fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'other' }));
    expect(findRepositoryRoot(dir)).toBeNull();
  });
});
