import { randomUUID } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { ServerResponse, type IncomingMessage, type Server } from 'node:http';
import type { Duplex } from 'node:stream';

/**
 * Forwards WebSocket upgrades under `path` to the upstream as a raw TCP pipe: the gateway replays the
 * request head and then gets out of the way, so Socket.IO's handshake and frames pass through untouched.
 */
export function proxyUpgrades(server: Server, path: string, upstream: string, onError: (err: Error) => void): void {
  const target = new URL(upstream);
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    if (!req.url?.startsWith(`${path}/`)) {
      serveWithoutUpgrade(server, req, socket);
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

/**
 * Node hands every request with `Connection: Upgrade` to the upgrade listener once there is one, so an ordinary
 * request that merely offers an upgrade (`curl --http2` sends `Upgrade: h2c`) would otherwise lose its connection.
 * A server may ignore the offer: one without a body is answered as usual, on a connection then closed (the HTTP
 * parser has let go of it); one with a body cannot be read any more, and is told to send it again without it.
 */
function serveWithoutUpgrade(server: Server, req: IncomingMessage, socket: Duplex): void {
  if ((req.headers['content-length'] && req.headers['content-length'] !== '0') || req.headers['transfer-encoding']) {
    const body = JSON.stringify({
      code: 'VALIDATION_FAILED',
      message: 'This address does not support Upgrade: send the request without it.',
      requestId: randomUUID(),
    });
    socket.end(`HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
    return;
  }
  const res = new ServerResponse(req);
  res.shouldKeepAlive = false;
  res.assignSocket(socket as Socket);
  res.on('finish', () => socket.end());
  req.push(null);
  server.emit('request', req, res);
}
