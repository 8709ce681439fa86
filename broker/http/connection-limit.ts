/**
 * minikafka.http.max.connections: at most that many HTTP connections are served at once.
 *
 * Node's own `server.maxConnections` drops a connection over the limit without a word, which a
 * client sees as a network failure and cannot tell from a crash. So the limit is kept here: a
 * connection over it is still read, its first request is answered 503 TOO_MANY_CONNECTIONS
 * (retriable) with `Connection: close`, and it is closed. Node's hard limit sits
 * REFUSAL_CONNECTIONS above ours, so the connections that get such an answer are bounded too,
 * and each has REFUSAL_IDLE_MS to send its request.
 */

import type { FastifyInstance } from 'fastify';
import type { Socket } from 'node:net';
import { MiniKafkaError } from '../../common/errors.ts';
import { limitNames } from './http-limits.ts';

/** Connections past the limit that still get an answer before Node drops the rest silently. */
const REFUSAL_CONNECTIONS = 64;
/** How long a refused connection may stay open without sending its request. */
const REFUSAL_IDLE_MS = 5_000;

export function limitConnections(app: FastifyInstance, maxConnections: number): void {
  const overLimit = new WeakSet<Socket>();
  let openConnections = 0;
  app.server.maxConnections = maxConnections + REFUSAL_CONNECTIONS;
  app.server.on('connection', (socket: Socket) => {
    openConnections += 1;
    socket.once('close', () => {
      openConnections -= 1;
    });
    if (openConnections > maxConnections) {
      overLimit.add(socket);
      socket.setTimeout(REFUSAL_IDLE_MS, () => socket.destroy());
    }
  });
  app.addHook('onRequest', async (request) => {
    if (!overLimit.has(request.raw.socket)) return;
    throw new MiniKafkaError('TOO_MANY_CONNECTIONS', `the broker serves at most ${maxConnections} HTTP connections (${limitNames.maxConnections}); retry once others close`, {
      limit: limitNames.maxConnections, maxConnections,
    });
  });
}
