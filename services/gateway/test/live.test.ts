import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server } from 'socket.io';
import { io as connect, type Socket } from 'socket.io-client';
import { LIVE_PATH } from '@dems/contracts';
import type { App } from '@dems/kit';
import { buildApp } from '../src/app.js';
import { GatewayConfig } from '../src/config.js';
import { tagOf } from '../src/live-proxy.js';

/**
 * The live socket through the gateway to two engagement replicas. Each replica is a real Socket.IO server standing
 * in for engagement (named as such): it tells a client which replica and which engine.io session it is talking to.
 */
interface Whoami {
  replica: string;
  sid: string;
  transport: string;
}

async function liveReplica(name: string) {
  const server = createServer();
  const io = new Server(server, { path: LIVE_PATH, serveClient: false });
  const handshakes: IncomingHttpHeaders[] = [];
  io.on('connection', (socket) => {
    handshakes.push(socket.handshake.headers);
    // The engine.io session id (private in the type, public at run time).
    const sid = (socket.conn as unknown as { id: string }).id;
    socket.on('whoami', (ack: (w: Whoami) => void) => ack({ replica: name, sid, transport: socket.conn.transport.name }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { name, url, io, handshakes, close: () => new Promise<void>((resolve) => io.close(() => resolve())) };
}

describe('the live socket through the gateway, over two engagement replicas', () => {
  let replicas: Awaited<ReturnType<typeof liveReplica>>[];
  let gateway: App;
  let base: string;
  const clients: Socket[] = [];

  beforeAll(async () => {
    replicas = await Promise.all([liveReplica('r1'), liveReplica('r2')]);
    const list = replicas.map((r) => r.url).join(',');
    gateway = await buildApp({ config: GatewayConfig.parse({ EVENTS_URL: list, TICKETING_URL: list, ENGAGEMENT_URL: list, WEB_DIST: '/nonexistent' }) });
    await gateway.listen({ port: 0, host: '127.0.0.1' });
    base = `http://127.0.0.1:${(gateway.server.address() as AddressInfo).port}`;
  });
  afterEach(() => {
    for (const c of clients.splice(0)) c.disconnect();
  });
  afterAll(async () => {
    await gateway.close();
    await Promise.all(replicas.map((r) => r.close().catch(() => {})));
  });

  /** A Socket.IO client of the gateway, connected; `transports` as the web app (WebSocket first) unless given. */
  async function client(transports: ('websocket' | 'polling')[] = ['websocket', 'polling'], reconnection = false): Promise<Socket> {
    const socket = connect(base, { path: LIVE_PATH, transports, reconnection, reconnectionDelay: 50, forceNew: true, extraHeaders: { origin: 'https://app.example.com' } });
    clients.push(socket);
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      if (!reconnection) socket.once('connect_error', reject);
    });
    return socket;
  }
  const whoami = (socket: Socket) => socket.timeout(2000).emitWithAck('whoami') as Promise<Whoami>;

  it('opens WebSockets to the replicas in turn, telling each replica the origin and the client address', async () => {
    const [a, b] = [await client(), await client()];
    const [wa, wb] = [await whoami(a!), await whoami(b!)];
    expect([wa.replica, wb.replica].sort()).toEqual(['r1', 'r2']);
    expect(wa.transport).toBe('websocket');
    const headers = replicas.find((r) => r.name === wa.replica)!.handshakes.at(-1)!;
    expect(headers).toMatchObject({ origin: 'https://app.example.com', 'x-forwarded-for': '127.0.0.1', 'x-forwarded-host': new URL(base).host });
  });

  it('keeps every long-polling request of a session on the replica that opened it', async () => {
    const sockets = await Promise.all(Array.from({ length: 4 }, () => client(['polling'])));
    const served = new Set<string>();
    for (const socket of sockets) {
      const answers = [];
      for (let i = 0; i < 5; i++) answers.push(await whoami(socket));
      const { replica, sid } = answers[0]!;
      expect(answers.every((a) => a.replica === replica && a.sid === sid && a.transport === 'polling')).toBe(true);
      // The client holds the session id tagged with its replica; the replica knows it untagged.
      expect(socket.io.engine.id).toBe(`${tagOf(replicas.find((r) => r.name === replica)!.url)}.${sid}`);
      served.add(replica);
    }
    expect([...served].sort()).toEqual(['r1', 'r2']);
  });

  it('upgrades a long-polling session to a WebSocket on the same replica and session', async () => {
    const socket = await client(['polling', 'websocket']);
    const before = await whoami(socket);
    if (socket.io.engine.transport.name !== 'websocket') await new Promise((resolve) => socket.io.engine.once('upgrade', resolve));
    const after = await whoami(socket);
    expect(after).toEqual({ ...before, transport: 'websocket' });
  });

  it('sends a client whose replica stops to the other one when it reconnects', async () => {
    const socket = await client(['websocket'], true);
    const first = await whoami(socket);
    const other = replicas.find((r) => r.name !== first.replica)!;
    const stopping = replicas.find((r) => r.name === first.replica)!;
    // The replica goes away as a stopping one does: its sockets are told to reconnect elsewhere, then it is gone.
    await stopping.close();
    await new Promise((resolve) => socket.io.once('reconnect', resolve));
    expect((await whoami(socket)).replica).toBe(other.name);
    const fresh = await Promise.all([client(['websocket'], true), client(['websocket'], true)]);
    for (const s of fresh) expect((await whoami(s)).replica).toBe(other.name);
  });
});
