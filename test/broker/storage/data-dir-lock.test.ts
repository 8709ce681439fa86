/**
 * The data directory lock stays healthy for as long as its holder lives: proper-lockfile refreshes
 * it, and nothing the broker writes may look like a compromise.
 */

import { describe, expect, it } from 'vitest';
import { lockDataDir } from '../../../broker/storage/data-dir-lock.ts';
import { makeTempDir } from '../../helpers/temp-dir.ts';

describe('lockDataDir', () => {
  it('holds past proper-lockfile’s refresh checks and releases cleanly', async () => {
    const dataDir = makeTempDir();
    const compromises: Error[] = [];
    // stale 2000 ms: refreshed every 1000 ms, so 4.5 s spans several refreshes.
    const lock = lockDataDir(dataDir, (error) => compromises.push(error), 2000);
    await new Promise((resolve) => setTimeout(resolve, 4500));
    expect(compromises).toEqual([]);
    expect(() => lockDataDir(dataDir, () => undefined, 2000)).toThrowError(expect.objectContaining({ code: 'LOG_DIR_LOCKED' }) as unknown as Error);
    expect(() => lock.release()).not.toThrow();
    const again = lockDataDir(dataDir, () => undefined, 2000);
    again.release();
  });
});
