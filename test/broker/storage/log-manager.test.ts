/**
 * The data directory: lock, clean-shutdown marker, checkpoints, retention across logs.
 */

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { encodeRecordBatch } from '../../../common/record-batch.ts';
import { CLEAN_SHUTDOWN_MARKER, LogManager } from '../../../broker/storage/log-manager.ts';
import { resolveLogConfig } from '../../../broker/storage/log-config.ts';
import { ManualClock } from '../../../broker/storage/clock.ts';
import { parseCheckpoint } from '../../../broker/storage/checkpoint-file.ts';
import { makeTempDir } from '../../helpers/temp-dir.ts';

const config = resolveLogConfig({ segmentBytes: 500 });

function appendSome(manager: LogManager, topic: string, count: number): void {
  const log = manager.openLog(topic, 0, config);
  for (let i = 0; i < count; i++) log.append(encodeRecordBatch({ records: [{ value: `v${i}`.padEnd(50, '-') }] }));
}

describe('LogManager', () => {
  it('writes the clean-shutdown marker on close and consumes it on open', async () => {
    const dataDir = makeTempDir();
    const first = await LogManager.open({ dataDir });
    expect(first.hadCleanShutdown).toBe(false);
    appendSome(first, 'orders', 20);
    await first.close();
    expect(fs.existsSync(path.join(dataDir, CLEAN_SHUTDOWN_MARKER))).toBe(true);

    const second = await LogManager.open({ dataDir });
    expect(second.hadCleanShutdown).toBe(true);
    expect(fs.existsSync(path.join(dataDir, CLEAN_SHUTDOWN_MARKER))).toBe(false);
    expect(second.openLog('orders', 0, config).nextOffset).toBe(20);
    await second.close();
  });

  it('checkpoints recovery points and log start offsets in Kafka\'s text format', async () => {
    const dataDir = makeTempDir();
    const clock = new ManualClock();
    const manager = await LogManager.open({ dataDir, clock });
    appendSome(manager, 'a-topic', 30);
    appendSome(manager, 'b', 3);
    const log = manager.getLog('a-topic', 0)!;
    await log.flush();
    log.updateConfig(resolveLogConfig({ ...config, retentionBytes: 600 }));
    expect(manager.runRetention()).toBeGreaterThan(0);
    await manager.checkpoint();
    const recovery = parseCheckpoint(fs.readFileSync(path.join(dataDir, 'recovery-point-offset-checkpoint'), 'utf8'));
    const logStart = parseCheckpoint(fs.readFileSync(path.join(dataDir, 'log-start-offset-checkpoint'), 'utf8'));
    expect(recovery.get('a-topic-0')).toBe(30);
    expect(logStart.get('a-topic-0')).toBe(log.logStartOffset);
    expect(log.logStartOffset).toBeGreaterThan(0);
    expect(fs.readFileSync(path.join(dataDir, 'recovery-point-offset-checkpoint'), 'utf8').split('\n').slice(0, 2)).toEqual(['0', '2']);
    expect(manager.listPartitionsOnDisk().sort((x, y) => x.topic.localeCompare(y.topic))).toEqual([
      { topic: 'a-topic', partition: 0 },
      { topic: 'b', partition: 0 },
    ]);
    await manager.close();
    const reopened = await LogManager.open({ dataDir, clock });
    expect(reopened.openLog('a-topic', 0, config).logStartOffset).toBe(log.logStartOffset);
    await reopened.close();
  });

  it('deleteLog() removes the partition directory', async () => {
    const dataDir = makeTempDir();
    const manager = await LogManager.open({ dataDir });
    appendSome(manager, 'gone', 3);
    await manager.deleteLog('gone', 0);
    expect(fs.existsSync(path.join(dataDir, 'gone-0'))).toBe(false);
    expect(manager.getLog('gone', 0)).toBeUndefined();
    await manager.close();
  });

  it('refuses a second open of a locked data directory with LOG_DIR_LOCKED naming the directory', async () => {
    const dataDir = makeTempDir();
    const manager = await LogManager.open({ dataDir });
    await expect(LogManager.open({ dataDir })).rejects.toMatchObject({ code: 'LOG_DIR_LOCKED', message: expect.stringContaining(dataDir) });
    await manager.close();
    const again = await LogManager.open({ dataDir });
    await again.close();
  });

  it('refuses a directory locked by another live process, and takes over from a dead one', async () => {
    const dataDir = makeTempDir();
    const script = `
      import { LogManager } from ${JSON.stringify(path.resolve('broker/storage/log-manager.ts'))};
      await LogManager.open({ dataDir: ${JSON.stringify(dataDir)} });
      console.log('locked');
      setInterval(() => {}, 1000);
    `;
    const scriptPath = path.join(makeTempDir(), 'holder.mts');
    fs.writeFileSync(scriptPath, script);
    const child = spawn(process.execPath, ['--import', 'tsx', scriptPath], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => chunk.toString().includes('locked') && resolve());
      child.on('exit', (code) => reject(new Error(`holder exited with ${code}`)));
    });
    await expect(LogManager.open({ dataDir })).rejects.toMatchObject({ code: 'LOG_DIR_LOCKED', message: expect.stringContaining(`pid ${child.pid}`) });
    child.kill('SIGKILL');
    await new Promise((resolve) => child.on('exit', resolve));
    const manager = await LogManager.open({ dataDir });
    expect(manager.hadCleanShutdown).toBe(false);
    await manager.close();
  });
});
