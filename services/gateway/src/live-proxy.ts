import { connect } from 'node:net';
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';

/**
 * Forwards WebSocket upgrades under `path` to the upstream as a raw TCP pipe: the gateway replays the
 * request head and then gets out of the way, so Socket.IO's handshake and frames pass through untouched.
 */
export function proxyUpgrades(server: Server, path: string, upstream: string, onError: (err: Error) => void): void {
  const target = new URL(upstream);
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    if (!req.url?.startsWith(`${path}/`)) {
      socket.destroy();
      return;
    }
    const upstreamSocket = connect(Number(target.port || 80), target.hostname, () => {
      const headers = Object.entries(req.headers)
        .filter(([name]) => name !== 'host')
        .flatMap(([name, value]) => (Array.isArray(value) ? value : [value]).map((v) => `${name}: ${v}\r\n`))
        .join('');
      upstreamSocket.write(`${req.method} ${req.url} HTTP/1.1\r\nhost: ${target.host}\r\n${headers}\r\n`);
      if (head.length) upstreamSocket.write(head);
      socket.pipe(upstreamSocket).pipe(socket);
    });
    const fail = (err: Error) => {
      onError(err);
      socket.destroy();
      upstreamSocket.destroy();
    };
    upstreamSocket.on('error', fail);
    socket.on('error', fail);
  });
}
