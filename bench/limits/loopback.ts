/**
 * Loopback TCP as a limit: what moving bytes from this process to another one over 127.0.0.1
 * costs on this machine, with nothing stored, in the same run as the systems compared.
 *
 * | row         | how                                                                                  |
 * |-------------|--------------------------------------------------------------------------------------|
 * | produce     | 1 MiB socket writes (waiting for 'drain' when the kernel's buffer is full) to a process that counts the bytes and answers once it has them all; timed to that answer |
 * | e2e-latency | the e2e-latency driver of the peers, unchanged, against a process that echoes every byte: a record's latency is one round trip through another process, the least any broker between a producer and a consumer adds |
 *
 * records/s for produce is bytes ÷ 100 B. The other process is Node (loopback-peer.ts), so the
 * figures include one Node event loop on each side, as the peers' clients do.
 */

import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import net from 'node:net';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { figureOf } from '../benchmark.ts';
import { formatBytes } from '../report.ts';
import { createRandom } from '../workload.ts';
import { attempt, comparisonMeasurement, measureE2eLatency } from '../peers/measure.ts';
import type { GroupReader, StreamClient } from '../peers/stream-client.ts';
import type { ComparisonMeasurement, CompareContext, SystemBench } from '../peers/workload.ts';
import { VALUE_BYTES } from '../peers/workload.ts';

const peerScript = path.join(path.dirname(fileURLToPath(import.meta.url)), 'loopback-peer.ts');
const WRITE_BYTES = 2 ** 20;
const PEER_START_TIMEOUT_MS = 20_000;
const STREAM_TIMEOUT_MS = 120_000;
/** Loopback moves several GB/s: four times the raw-disk total keeps a round above a second. */
const BYTES_PER_RAW_BYTE = 4;

interface Peer {
  readonly socket: net.Socket;
  stop(): Promise<void>;
}

async function startPeer(args: string[]): Promise<Peer> {
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', peerScript, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = once(child, 'exit');
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  };
  try {
    const line = await withTimeout(new Promise<string>((resolve) => readline.createInterface({ input: child.stdout! }).once('line', resolve)), PEER_START_TIMEOUT_MS, 'loopback peer did not start');
    const socket = net.connect({ host: '127.0.0.1', port: Number(line) });
    socket.setNoDelay(true);
    await withTimeout(once(socket, 'connect'), PEER_START_TIMEOUT_MS, 'loopback peer did not accept');
    return { socket, stop: async () => void (socket.destroy(), await stop()) };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** Streams `totalBytes` to a sink process; ms from the first write to the sink's answer. */
async function streamRound(totalBytes: number): Promise<number> {
  const peer = await startPeer(['sink', String(totalBytes)]);
  try {
    const buffer = Buffer.allocUnsafe(WRITE_BYTES);
    const random = createRandom(13);
    for (let i = 0; i < buffer.length; i++) buffer[i] = (random() * 256) | 0;
    const answered = once(peer.socket, 'data');
    const startMs = performance.now();
    for (let sentBytes = 0; sentBytes < totalBytes; sentBytes += WRITE_BYTES) {
      const chunk = totalBytes - sentBytes >= WRITE_BYTES ? buffer : buffer.subarray(0, totalBytes - sentBytes);
      if (!peer.socket.write(chunk)) await withTimeout(once(peer.socket, 'drain'), STREAM_TIMEOUT_MS, 'loopback sink stopped reading');
    }
    await withTimeout(answered, STREAM_TIMEOUT_MS, 'loopback sink did not answer');
    return performance.now() - startMs;
  } finally {
    await peer.stop();
  }
}

/**
 * The peers' StreamClient over an echo process: send() writes the records as 100-byte frames
 * and resolves once the kernel took them; the reader cuts the echoed bytes back into frames.
 */
class LoopbackEchoClient implements StreamClient {
  readonly #peer: Peer;
  #onFrames: ((values: readonly Buffer[]) => void) | null = null;
  #pending: Buffer = Buffer.alloc(0);

  constructor(peer: Peer) {
    this.#peer = peer;
    peer.socket.on('data', (chunk: Buffer) => this.#receive(chunk));
  }

  #receive(chunk: Buffer): void {
    const bytes = this.#pending.length === 0 ? chunk : Buffer.concat([this.#pending, chunk]);
    const frameCount = Math.floor(bytes.length / VALUE_BYTES);
    const frames: Buffer[] = new Array(frameCount);
    for (let i = 0; i < frameCount; i++) frames[i] = bytes.subarray(i * VALUE_BYTES, (i + 1) * VALUE_BYTES);
    this.#pending = bytes.subarray(frameCount * VALUE_BYTES);
    if (frameCount > 0) this.#onFrames?.(frames);
  }

  async createStream(): Promise<void> {}

  send(_stream: string, values: readonly Buffer[]): Promise<void> {
    return new Promise((resolve, reject) => this.#peer.socket.write(Buffer.concat(values), (error) => (error ? reject(error) : resolve())));
  }

  async joinGroup(): Promise<GroupReader> {
    return {
      read: async (onRecords, shouldStop, deadlineMs) => {
        this.#onFrames = onRecords;
        while (!shouldStop() && performance.now() < deadlineMs) await new Promise((resolve) => setTimeout(resolve, 10));
        this.#onFrames = null;
      },
      close: async () => {},
    };
  }

  async close(): Promise<void> {
    await this.#peer.stop();
  }
}

export const loopback: SystemBench = {
  system: 'loopback',
  workloads: ['produce', 'e2e-latency'],
  async run(context) {
    const results: ComparisonMeasurement[] = [];
    const produceRow = { system: 'loopback', workload: 'produce', caseName: 'loopback produce (TCP to another process)' } as const;
    results.push(await attempt(produceRow, context, () => measureStream(produceRow, context)));
    const e2eRow = { system: 'loopback', workload: 'e2e-latency', caseName: 'loopback e2e-latency (echo through another process)' } as const;
    results.push(
      await attempt(e2eRow, context, async () => {
        const client = new LoopbackEchoClient(await startPeer(['echo']));
        try {
          return await measureE2eLatency(client, 'e2e', {
            ...e2eRow,
            settings: { producer: 'the tick’s records in one socket write', consumer: 'the echoed bytes cut into 100-byte frames', 'ack means': 'nothing stored: one round trip', transport: 'TCP 127.0.0.1, TCP_NODELAY' },
          }, context);
        } finally {
          await client.close();
        }
      }),
    );
    return results;
  },
};

async function measureStream(row: { readonly system: 'loopback'; readonly workload: 'produce'; readonly caseName: string }, context: CompareContext): Promise<ComparisonMeasurement> {
  const totalBytes = context.sizes.rawBytes * BYTES_PER_RAW_BYTE;
  const elapsedMs: number[] = [];
  for (let round = 0; round < context.sizes.limitRounds; round++) {
    context.progress(`${row.caseName}: round ${round + 1} of ${context.sizes.limitRounds}, ${formatBytes(totalBytes)}`);
    elapsedMs.push(await streamRound(totalBytes));
  }
  const figures = [
    figureOf('records/s', elapsedMs.map((ms) => totalBytes / VALUE_BYTES / (ms / 1000))),
    figureOf('MB/s', elapsedMs.map((ms) => totalBytes / 1e6 / (ms / 1000))),
  ];
  return comparisonMeasurement({ ...row, settings: {} }, figures, {
    bytes: formatBytes(totalBytes),
    batch: `${formatBytes(WRITE_BYTES)} per socket write`,
    rounds: `${context.sizes.limitRounds} (median [min–max])`,
    'ack means': 'nothing stored: the other process has read every byte',
    'records/s': `bytes ÷ ${VALUE_BYTES} B`,
    transport: 'TCP 127.0.0.1, TCP_NODELAY',
  });
}

async function withTimeout<T>(promise: Promise<T>, timeoutMs: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${message} within ${timeoutMs / 1000} s`)), timeoutMs)));
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
