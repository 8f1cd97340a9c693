import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Server } from 'socket.io';
import { io as connect, type Socket } from 'socket.io-client';
import { LIVE_PATH } from '@dems/contracts';
import { tempDir } from '@dems/kit/testing';

/**
 * Replicas reached over https: the built gateway (a real process) trusts a self-signed certificate made here with
 * openssl through NODE_EXTRA_CA_CERTS, as a deployment trusts its own CA, and proxies HTTP and the live socket (wss:)
 * to an https stand-in for engagement. Without the certificate it refuses the replica.
 */

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const GATEWAY = join(ROOT, 'services', 'gateway', 'dist', 'main.js');
/** Where each gateway listens: on a port the OS picks, which it reports over its IPC channel (kit's runService). */
const PORTS = { trusting: 0, distrusting: 0 };
const openssl = spawnSync('openssl', ['version'], { encoding: 'utf8' });
const skip = openssl.status === 0 ? undefined : 'openssl is not installed (apt-get install openssl)';

describe.skipIf(skip)(`the gateway over https upstreams${skip ? ` (skipped: ${skip})` : ''}`, () => {
  const dir = tempDir('dems-https-');
  const gateways: ChildProcess[] = [];
  let upstream: string;
  let io: Server;

  beforeAll(async () => {
    if (!existsSync(GATEWAY)) throw new Error(`${GATEWAY} is missing: run npm run build first.`);
    const made = spawnSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=127.0.0.1',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
        '-keyout',
        join(dir.path, 'key.pem'),
        '-out',
        join(dir.path, 'cert.pem'),
      ],
      { encoding: 'utf8' },
    );
    expect(made.status, made.stderr).toBe(0);
    // One https server stands in for every service: the API answers who it is, Socket.IO serves the live path.
    const server = createServer({ key: readFileSync(join(dir.path, 'key.pem')), cert: readFileSync(join(dir.path, 'cert.pem')) }, (req, res) => {
      if (req.url?.startsWith(LIVE_PATH)) return; // Socket.IO answers these
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ over: 'https', url: req.url }));
    });
    io = new Server(server, { path: LIVE_PATH, serveClient: false });
    io.on('connection', (socket) => socket.on('whoami', (ack: (t: string) => void) => ack(`over https via ${socket.conn.transport.name}`)));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    upstream = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
    [PORTS.trusting, PORTS.distrusting] = await Promise.all([startGateway({ NODE_EXTRA_CA_CERTS: join(dir.path, 'cert.pem') }), startGateway({})]);
  });
  afterAll(async () => {
    for (const g of gateways) g.kill('SIGTERM');
    await Promise.all(gateways.map((g) => (g.exitCode === null ? new Promise((r) => g.once('exit', r)) : undefined)));
    await new Promise((resolve) => io.close(resolve));
    dir.cleanup();
  });

  /** Starts a gateway process; resolves with its port once it is ready. */
  async function startGateway(env: Record<string, string>): Promise<number> {
    const child = spawn(process.execPath, [GATEWAY], {
      env: {
        PATH: process.env.PATH,
        GATEWAY_PORT: '0',
        EVENTS_URL: upstream,
        TICKETING_URL: upstream,
        ENGAGEMENT_URL: upstream,
        WEB_DIST: join(dir.path, 'no-web'),
        LOG_LEVEL: 'warn',
        ...env,
      },
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    });
    gateways.push(child);
    let port = 0;
    child.once('message', (m: { type?: string; port?: number }) => {
      if (m.type === 'listening' && m.port) port = m.port;
    });
    const end = Date.now() + 15_000;
    while (Date.now() < end) {
      if (child.exitCode !== null) throw new Error(`the gateway exited with ${child.exitCode}`);
      if (
        port &&
        (await fetch(`http://127.0.0.1:${port}/readyz`).then(
          (r) => r.ok,
          () => false,
        ))
      )
        return port;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error('the gateway did not get ready in 15 s');
  }

  const live = (port: number, transports: ('websocket' | 'polling')[]) =>
    new Promise<Socket>((resolve, reject) => {
      const socket = connect(`http://127.0.0.1:${port}`, { path: LIVE_PATH, transports, reconnection: false, forceNew: true });
      socket.once('connect', () => resolve(socket));
      socket.once('connect_error', reject);
    });

  it('forwards API requests to an https replica whose certificate it trusts', async () => {
    const res = await fetch(`http://127.0.0.1:${PORTS.trusting}/api/events?x=1`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ over: 'https', url: '/events?x=1' });
  });

  it('proxies the live socket to a wss:// replica, by WebSocket and by long polling', async () => {
    for (const transport of ['websocket', 'polling'] as const) {
      const socket = await live(PORTS.trusting, [transport]);
      expect(await socket.timeout(3000).emitWithAck('whoami')).toBe(`over https via ${transport}`);
      socket.disconnect();
    }
  });

  it('refuses a replica whose certificate it does not trust', async () => {
    const res = await fetch(`http://127.0.0.1:${PORTS.distrusting}/api/events`);
    expect(res.status).toBe(502);
    expect(((await res.json()) as { code: string }).code).toBe('UPSTREAM_UNAVAILABLE');
  });
});
