/**
 * The other end of the loopback limit (loopback.ts), in its own process as a broker would be:
 *
 *   node --import tsx bench/limits/loopback-peer.ts sink <bytes>   reads <bytes>, then answers one byte
 *   node --import tsx bench/limits/loopback-peer.ts echo           sends back every byte it receives
 *
 * It listens on a free 127.0.0.1 port, prints the port on one line, serves one connection and
 * exits when that connection ends (or on SIGTERM).
 */

import net from 'node:net';

const [mode, bytesArg] = process.argv.slice(2);
if (mode !== 'sink' && mode !== 'echo') {
  console.error('usage: loopback-peer.ts sink <bytes> | echo');
  process.exit(2);
}
const expectedBytes = Number(bytesArg ?? 0);

const server = net.createServer((socket) => {
  socket.setNoDelay(true);
  server.close(); // one connection
  socket.once('close', () => process.exit(0));
  if (mode === 'echo') {
    socket.pipe(socket);
    return;
  }
  let receivedBytes = 0;
  socket.on('data', (chunk: Buffer) => {
    receivedBytes += chunk.length;
    if (receivedBytes >= expectedBytes) socket.write('d');
  });
});
server.listen(0, '127.0.0.1', () => console.log((server.address() as net.AddressInfo).port));
process.once('SIGTERM', () => process.exit(0));
