import { afterEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { newMessage } from '@dems/contracts';
import { createServiceApp, currentRequestId, OutboxRelay, type App } from '@dems/kit';
import { MESSAGING_SCHEMA, migrate, openSqlite, SqliteMessaging } from '@dems/kit/sqlite';
import { TEST_SECRET, tempDir } from '@dems/kit/testing';
import { z } from 'zod';

/** Log lines written for a request carry its id, whichever logger wrote them (and only once). */

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function loggedApp(): Promise<{ app: App; lines: string[]; logged: (msg: string) => Record<string, unknown>[] }> {
  const lines: string[] = [];
  const app = await createServiceApp({
    name: 'logged',
    description: 'request id test',
    isReady: () => true,
    logger: { level: 'info', stream: { write: (l: string) => lines.push(l) } },
  });
  cleanups.push(() => app.close());
  const logged = (msg: string) => lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.msg === msg);
  return { app, lines, logged };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('request ids in log lines', () => {
  it('a line written with the app logger while handling a request names the request, also after its body was read', async () => {
    const { app, logged } = await loggedApp();
    app.get('/plain', async () => {
      app.log.info('app log in a GET');
      return { id: currentRequestId() };
    });
    app.post('/with-body', async (req) => {
      await sleep(5);
      app.log.info({ got: (req.body as { n: number }).n }, 'app log after the body');
      return {};
    });
    // Over a real socket: a body is read from the socket's events, where a request's context is easily lost.
    const url = await app.listen({ port: 0, host: '127.0.0.1' });
    // The body comes in two parts, the second a moment later: its events are the socket's, not the request's.
    const slowBody = (text: string) =>
      new ReadableStream<Uint8Array>({
        async start(controller) {
          controller.enqueue(new TextEncoder().encode(text.slice(0, 3)));
          await sleep(30);
          controller.enqueue(new TextEncoder().encode(text.slice(3)));
          controller.close();
        },
      });
    const post = (id: string, n: number) =>
      fetch(`${url}/with-body`, {
        method: 'POST',
        headers: { 'x-request-id': id, 'content-type': 'application/json' },
        body: slowBody(JSON.stringify({ n })),
        duplex: 'half',
      } as RequestInit);
    const get = await fetch(`${url}/plain`, { headers: { 'x-request-id': 'req-get-1' } });
    expect(await get.json()).toEqual({ id: 'req-get-1' });
    await post('req-post-1', 7);
    // Two at once: each line names its own.
    await Promise.all([post('req-a', 1), post('req-b', 2)]);
    expect(logged('app log in a GET').map((l) => l.reqId)).toEqual(['req-get-1']);
    expect(
      logged('app log after the body')
        .map((l) => l.reqId)
        .sort(),
    ).toEqual(['req-a', 'req-b', 'req-post-1']);
    app.log.info('outside any request');
    expect(logged('outside any request')[0]).not.toHaveProperty('reqId');
    expect(currentRequestId()).toBeUndefined();
  });

  it('a list answered without a stored row its schema refuses names the request in the line that says so', async () => {
    const { app, logged } = await loggedApp();
    app.get('/things', { schema: { response: { 200: z.object({ items: z.array(z.object({ id: z.string() })) }) } } }, async () => ({
      items: [{ id: 'a' }, { id: 2 } as unknown as { id: string }],
    })); // a row written by hand
    const res = await app.inject({ method: 'GET', url: '/things', headers: { 'x-request-id': 'req-list' } });
    expect(res.json()).toEqual({ items: [{ id: 'a' }] });
    expect(logged('answered a list without stored rows that do not match its schema')).toEqual([expect.objectContaining({ reqId: 'req-list', skipped: [2] })]);
  });

  it('the request logger names it once, not twice', async () => {
    const { app, lines } = await loggedApp();
    app.get('/own', async (req) => {
      req.log.info('request log');
      return {};
    });
    await app.inject({ method: 'GET', url: '/own', headers: { 'x-request-id': 'req-own' } });
    const line = lines.find((l) => l.includes('"request log"'))!;
    expect(line.match(/"reqId"/g)).toHaveLength(1);
    expect(JSON.parse(line).reqId).toBe('req-own');
  });

  it('the relay kicked by a request logs as background work, without that request’s id', async () => {
    const { app, logged } = await loggedApp();
    const dir = tempDir();
    const db = openSqlite(join(dir.path, 'outbox.db'));
    migrate(db, [MESSAGING_SCHEMA]);
    cleanups.push(dir.cleanup, () => db.close());
    const outbox = new SqliteMessaging(db);
    // Nobody listens at port 9: the delivery fails and the relay says so.
    const relay = new OutboxRelay({
      publisher: 'events',
      store: outbox,
      subscriberUrls: { events: 'http://127.0.0.1:9', ticketing: 'http://127.0.0.1:9', engagement: 'http://127.0.0.1:9' },
      secret: TEST_SECRET,
      log: app.log,
      maxAttempts: 5,
      sweepMs: 60_000,
    });
    cleanups.push(() => relay.stop());
    app.post('/register', async () => {
      db.transaction(() => outbox.enqueue(newMessage('events', 'UserRegistered', { registrationId: 'reg_1', eventId: 'evt_1', eventTitle: 'Jazz', userId: 'usr_1' })))();
      relay.kick();
      return {};
    });
    await app.inject({ method: 'POST', url: '/register', headers: { 'x-request-id': 'req-kick' }, payload: {} });
    const end = Date.now() + 5000;
    while (logged('subscriber unreachable; will retry').length === 0 && Date.now() < end) await sleep(20);
    const [line] = logged('subscriber unreachable; will retry');
    expect(line).toMatchObject({ subscriber: 'engagement' });
    expect(line).not.toHaveProperty('reqId');
  });
});
