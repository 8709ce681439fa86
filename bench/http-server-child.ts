/**
 * The server side of the HTTP benchmark, in its own process so that the load generator
 * (autocannon, in the parent) and the server do not share an event loop.
 *
 *   node --import tsx bench/http-server-child.ts broker <data dir>   the minikafka broker
 *   node --import tsx bench/http-server-child.ts bare                 a bare fastify app: the floor
 *
 * It prints one line, the base URL, and runs until SIGTERM.
 */

import Fastify from 'fastify';
import { startBroker } from '../broker/broker.ts';

const [mode, dataDir] = process.argv.slice(2);

if (mode === 'broker') {
  const broker = await startBroker({ dataDir, config: { 'num.partitions': 1 } });
  console.log(broker.url);
  process.once('SIGTERM', () => void broker.close().then(() => process.exit(0)));
} else if (mode === 'bare') {
  // The same framework with nothing behind it: what parsing a JSON body and answering costs.
  const app = Fastify({ logger: false, bodyLimit: 16 * 1024 * 1024 });
  app.get('/', async () => [{ topic: 't', partition: 0, offset: 0, key: null, value: 'x', timestamp: 0, headers: [] }]);
  app.post('/', async (request) => ({ offsets: [{ partition: 0, offset: 0, error_code: null, error: null, records: (request.body as { records: unknown[] }).records.length }] }));
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address() as { port: number };
  console.log(`http://127.0.0.1:${address.port}`);
  process.once('SIGTERM', () => void app.close().then(() => process.exit(0)));
} else {
  console.error('usage: http-server-child.ts broker <data dir> | bare');
  process.exit(2);
}
