import { io as connect, type Socket } from 'socket.io-client';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { LIVE_PATH } from '@dems/contracts';
import { sessionVerifier } from '../src/identity/session-tokens.js';
import { attachSocketIo } from '../src/live/socket-io.js';
import { signUp, testApp, type TestApp } from './helpers.js';

let t: TestApp;
let address: string;
const sockets: Socket[] = [];

beforeEach(async () => {
  t = await testApp();
  attachSocketIo(t.app, { authenticate: sessionVerifier(t.keys.verifier(), t.store), live: t.live });
  address = await t.app.listen({ port: 0, host: '127.0.0.1' });
});
afterEach(async () => {
  sockets.splice(0).forEach((s) => s.close());
  await t.close();
});

function open(token: string): Promise<Socket> {
  const socket = connect(address, { path: LIVE_PATH, auth: { token }, transports: ['websocket'], reconnection: false });
  sockets.push(socket);
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', reject);
  });
}

async function gauges(): Promise<{ sockets?: number; users?: number }> {
  const text = (await t.app.inject({ method: 'GET', url: '/metrics' })).body;
  const read = (name: string) => {
    const m = new RegExp(`^${name} (\\d+)$`, 'm').exec(text);
    return m ? Number(m[1]) : undefined;
  };
  return { sockets: read('dems_live_sockets'), users: read('dems_live_users') };
}

const until = async (check: () => Promise<boolean>) => {
  const end = Date.now() + 5000;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
};

it('/metrics counts the live sockets and their users on this replica, as they come and go', async () => {
  expect(await gauges()).toEqual({ sockets: 0, users: 0 });
  const ann = await signUp(t.app);
  const bob = await signUp(t.app);
  const [tab1] = await Promise.all([open(ann.token), open(ann.token), open(bob.token)]);
  expect(await gauges()).toEqual({ sockets: 3, users: 2 });
  tab1!.close();
  await until(async () => (await gauges()).sockets === 2);
  expect(await gauges()).toEqual({ sockets: 2, users: 2 });
  // A refused connection (no valid token) is never counted.
  await expect(open('not-a-token')).rejects.toThrow();
  expect(await gauges()).toEqual({ sockets: 2, users: 2 });
});
