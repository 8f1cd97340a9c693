import { createRemoteJWKSet, decodeProtectedHeader } from 'jose';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { verifierFor } from '@dems/kit';
import { deliver, TEST_SECRET } from '@dems/kit/testing';
import { msg, signUp, snapshot, testApp, type TestApp } from './helpers.js';

let t: TestApp;
beforeEach(async () => {
  t = await testApp();
});
afterEach(async () => {
  await t.close();
});

const PASSWORD = 'correct horse battery';

describe('accounts', () => {
  it('signs up a user and never returns the password or its hash', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/users',
      payload: { email: 'Ada@Example.com', password: PASSWORD, name: 'Ada', role: 'organizer' },
    });
    expect(res.statusCode).toBe(201);
    const user = res.json();
    expect(user).toMatchObject({ email: 'ada@example.com', name: 'Ada', role: 'organizer' });
    expect(user.id).toMatch(/^usr_/);
    expect(res.body).not.toContain(PASSWORD);
    expect(res.body).not.toContain('scrypt');
    expect(Object.keys(user).sort()).toEqual(['createdAt', 'email', 'id', 'name', 'role']);
  });

  it('defaults the role to attendee and refuses admin from sign-up', async () => {
    const res = await t.app.inject({ method: 'POST', url: '/users', payload: { email: 'a@example.com', password: PASSWORD, name: 'A' } });
    expect(res.json().role).toBe('attendee');
    const admin = await t.app.inject({
      method: 'POST',
      url: '/users',
      payload: { email: 'b@example.com', password: PASSWORD, name: 'B', role: 'admin' },
    });
    expect(admin.statusCode).toBe(400);
    expect(admin.json().code).toBe('VALIDATION_FAILED');
  });

  it('answers 409 EMAIL_TAKEN for a duplicate email, whatever its case', async () => {
    const body = { email: 'dup@example.com', password: PASSWORD, name: 'First' };
    expect((await t.app.inject({ method: 'POST', url: '/users', payload: body })).statusCode).toBe(201);
    const again = await t.app.inject({ method: 'POST', url: '/users', payload: { ...body, email: 'DUP@example.COM', name: 'Second' } });
    expect(again.statusCode).toBe(409);
    expect(again.json()).toMatchObject({ code: 'EMAIL_TAKEN' });
    expect(again.json().requestId).toBeTruthy();
  });

  it('signs in with the right password and returns a token, its expiry and the user', async () => {
    await t.app.inject({ method: 'POST', url: '/users', payload: { email: 'in@example.com', password: PASSWORD, name: 'In' } });
    const res = await t.app.inject({ method: 'POST', url: '/sessions', payload: { email: 'IN@example.com', password: PASSWORD } });
    expect(res.statusCode).toBe(200);
    const session = res.json();
    expect(session.user).toMatchObject({ email: 'in@example.com', name: 'In', role: 'attendee' });
    expect(typeof session.token).toBe('string');
    const ttl = Date.parse(session.expiresAt) - Date.now();
    expect(ttl).toBeGreaterThan(3500_000);
    expect(ttl).toBeLessThanOrEqual(3600_000);
    const header = decodeProtectedHeader(session.token);
    expect(header.alg).toBe('EdDSA');
    expect(header.kid).toBe(t.keys.jwks().keys[0]?.kid);
  });

  it('gives the same 401 for a wrong password and an unknown email', async () => {
    await t.app.inject({ method: 'POST', url: '/users', payload: { email: 'x@example.com', password: PASSWORD, name: 'X' } });
    const wrong = await t.app.inject({ method: 'POST', url: '/sessions', payload: { email: 'x@example.com', password: 'not the password' } });
    const unknown = await t.app.inject({ method: 'POST', url: '/sessions', payload: { email: 'nobody@example.com', password: PASSWORD } });
    expect(wrong.statusCode).toBe(401);
    expect(unknown.statusCode).toBe(401);
    const strip = (b: { requestId?: string }) => ({ ...b, requestId: undefined });
    expect(strip(wrong.json())).toEqual(strip(unknown.json()));
    expect(wrong.json()).toMatchObject({ code: 'INVALID_CREDENTIALS', message: 'The email or password is incorrect.' });
  });

  it('GET /me returns the caller with a token and 401 without or with a bad one', async () => {
    const user = await signUp(t.app, 'organizer', 'Grace');
    const me = await t.app.inject({ method: 'GET', url: '/me', headers: user.auth });
    expect(me.statusCode).toBe(200);
    expect(me.json()).toMatchObject({ id: user.id, email: user.email, name: 'Grace', role: 'organizer' });

    const none = await t.app.inject({ method: 'GET', url: '/me' });
    expect(none.statusCode).toBe(401);
    expect(none.json().code).toBe('UNAUTHENTICATED');
    const tampered = await t.app.inject({ method: 'GET', url: '/me', headers: { authorization: `Bearer ${user.token.slice(0, -4)}AAAA` } });
    expect(tampered.statusCode).toBe(401);
  });

  it('issues tokens that verify against the served JWKS (as events and ticketing do)', async () => {
    const address = await t.app.listen({ port: 0, host: '127.0.0.1' });
    const user = await signUp(t.app, 'organizer');
    const res = await fetch(`${address}/.well-known/jwks.json`);
    expect(res.headers.get('cache-control')).toContain('max-age=300');
    const jwks = (await res.json()) as { keys: Record<string, unknown>[] };
    expect(jwks.keys).toHaveLength(1);
    expect(jwks.keys[0]).not.toHaveProperty('d');
    const verify = verifierFor(createRemoteJWKSet(new URL(`${address}/.well-known/jwks.json`)));
    await expect(verify(user.token)).resolves.toMatchObject({ id: user.id, role: 'organizer', email: user.email });
  });

  it('keeps the signing key across restarts so issued tokens stay valid', async () => {
    const user = await signUp(t.app);
    const { SigningKeys } = await import('../src/identity/signing-keys.js');
    const reloaded = await SigningKeys.load({ file: `${t.dir}/engagement-signing-keys.json` });
    expect(reloaded.jwks()).toEqual(t.keys.jwks());
    await expect(reloaded.verifier()(user.token)).resolves.toMatchObject({ id: user.id });
  });
});

describe('bad input', () => {
  it('rejects unknown fields with 400 VALIDATION_FAILED and creates nothing', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/users',
      payload: { email: 'u@example.com', password: PASSWORD, name: 'U', isAdmin: true },
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().code).toBe('VALIDATION_FAILED');
    expect(await t.store.findCredentials('u@example.com')).toBeNull();
  });

  it('rejects malformed JSON with 400 MALFORMED_JSON', async () => {
    const res = await t.app.inject({ method: 'POST', url: '/sessions', headers: { 'content-type': 'application/json' }, payload: '{"email":' });
    expect(res.statusCode).toBe(400);
    expect(res.json().code).toBe('MALFORMED_JSON');
  });

  it('rejects a short password, a bad email and a bad id', async () => {
    const short = await t.app.inject({ method: 'POST', url: '/users', payload: { email: 'p@example.com', password: 'short', name: 'P' } });
    expect(short.statusCode).toBe(400);
    const email = await t.app.inject({ method: 'POST', url: '/users', payload: { email: 'not-an-email', password: PASSWORD, name: 'P' } });
    expect(email.statusCode).toBe(400);
    const user = await signUp(t.app);
    const badId = await t.app.inject({ method: 'POST', url: '/notifications/bad%20id!/read', headers: user.auth });
    expect(badId.statusCode).toBe(400);
  });
});

describe('notifications', () => {
  async function giveOrders(userId: string, count: number) {
    for (let i = 0; i < count; i++) {
      const res = await deliver(t.app, [msg.order(userId, 1, { eventTitle: `Show ${i}` })]);
      expect(res.statusCode).toBe(200);
    }
  }

  it('requires a token', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/notifications' });
    expect(res.statusCode).toBe(401);
  });

  it('pages through more than 20 notifications, newest first, without gaps or repeats', async () => {
    const user = await signUp(t.app);
    await giveOrders(user.id, 25);
    const first = await t.app.inject({ method: 'GET', url: '/notifications', headers: user.auth });
    expect(first.statusCode).toBe(200);
    const page1 = first.json();
    expect(page1.items).toHaveLength(20);
    expect(page1.unreadCount).toBe(25);
    expect(page1.nextCursor).toEqual(expect.any(String));
    const second = await t.app.inject({
      method: 'GET',
      url: `/notifications?cursor=${encodeURIComponent(page1.nextCursor)}`,
      headers: user.auth,
    });
    const page2 = second.json();
    expect(page2.items).toHaveLength(5);
    expect(page2.nextCursor).toBeNull();

    const all = [...page1.items, ...page2.items] as { id: string; createdAt: string; body: string }[];
    expect(new Set(all.map((n) => n.id)).size).toBe(25);
    for (let i = 1; i < all.length; i++) {
      const [a, b] = [all[i - 1]!, all[i]!];
      expect(a.createdAt > b.createdAt || (a.createdAt === b.createdAt && a.id > b.id)).toBe(true);
    }
    // The last order delivered is on the first page, the first one delivered on the last page.
    expect(page1.items.some((n: { body: string }) => n.body.includes('Show 24'))).toBe(true);
    expect(page2.items.some((n: { body: string }) => n.body.includes('Show 0 '))).toBe(true);
    expect(all.every((n) => /Show \d+/.test(n.body))).toBe(true);
  });

  it('honours limit and rejects a forged cursor', async () => {
    const user = await signUp(t.app);
    await giveOrders(user.id, 3);
    const small = await t.app.inject({ method: 'GET', url: '/notifications?limit=2', headers: user.auth });
    expect(small.json().items).toHaveLength(2);
    const bad = await t.app.inject({ method: 'GET', url: '/notifications?cursor=garbage', headers: user.auth });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().code).toBe('VALIDATION_FAILED');
    const tooMany = await t.app.inject({ method: 'GET', url: '/notifications?limit=1000', headers: user.auth });
    expect(tooMany.statusCode).toBe(400);
  });

  it('marks one read, then all read, and keeps unreadCount right', async () => {
    const user = await signUp(t.app);
    await giveOrders(user.id, 3);
    const list = (await t.app.inject({ method: 'GET', url: '/notifications', headers: user.auth })).json();
    const id = list.items[1].id as string;

    const read = await t.app.inject({ method: 'POST', url: `/notifications/${id}/read`, headers: user.auth });
    expect(read.statusCode).toBe(200);
    expect(read.json()).toMatchObject({ id, readAt: expect.any(String) });
    const readAgain = await t.app.inject({ method: 'POST', url: `/notifications/${id}/read`, headers: user.auth });
    expect(readAgain.json().readAt).toBe(read.json().readAt);
    expect((await t.app.inject({ method: 'GET', url: '/notifications', headers: user.auth })).json().unreadCount).toBe(2);

    const all = await t.app.inject({ method: 'POST', url: '/notifications/read-all', headers: user.auth });
    expect(all.json()).toEqual({ updated: 2 });
    const after = (await t.app.inject({ method: 'GET', url: '/notifications', headers: user.auth })).json();
    expect(after.unreadCount).toBe(0);
    expect(after.items.every((n: { readAt: string | null }) => n.readAt !== null)).toBe(true);
    expect((await t.app.inject({ method: 'POST', url: '/notifications/read-all', headers: user.auth })).json()).toEqual({ updated: 0 });
  });

  it("answers 404 for another user's notification and leaves it unread", async () => {
    const owner = await signUp(t.app);
    const other = await signUp(t.app);
    await giveOrders(owner.id, 1);
    const id = (await t.app.inject({ method: 'GET', url: '/notifications', headers: owner.auth })).json().items[0].id;
    const res = await t.app.inject({ method: 'POST', url: `/notifications/${id}/read`, headers: other.auth });
    expect(res.statusCode).toBe(404);
    expect(res.json().code).toBe('NOTIFICATION_NOT_FOUND');
    expect((await t.app.inject({ method: 'GET', url: '/notifications', headers: other.auth })).json().items).toEqual([]);
    const ownerView = (await t.app.inject({ method: 'GET', url: '/notifications', headers: owner.auth })).json();
    expect(ownerView.unreadCount).toBe(1);
  });
});

describe('announcements', () => {
  it("lets only the event's organizer (or an admin) announce, to every registrant and ticket holder once", async () => {
    const organizer = await signUp(t.app, 'organizer', 'Olive');
    const stranger = await signUp(t.app, 'organizer', 'Sam');
    const registrant = await signUp(t.app);
    const holder = await signUp(t.app);
    const both = await signUp(t.app);
    const withdrawn = await signUp(t.app);
    await deliver(t.app, [
      msg.published(snapshot({ organizerId: organizer.id })),
      msg.registered(registrant.id),
      msg.order(holder.id, 2),
      msg.registered(both.id),
      msg.order(both.id, 1),
      msg.registered(withdrawn.id),
      msg.withdrawn(withdrawn.id),
    ]);

    const body = { eventId: 'evt_jazz', message: 'Doors open at 18:30.' };
    const forbidden = await t.app.inject({ method: 'POST', url: '/announcements', headers: stranger.auth, payload: body });
    expect(forbidden.statusCode).toBe(403);
    expect(forbidden.json().code).toBe('FORBIDDEN');
    const attendee = await t.app.inject({ method: 'POST', url: '/announcements', headers: registrant.auth, payload: body });
    expect(attendee.statusCode).toBe(403);

    const res = await t.app.inject({ method: 'POST', url: '/announcements', headers: organizer.auth, payload: body });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({ eventId: 'evt_jazz', message: 'Doors open at 18:30.', recipients: 3 });

    for (const who of [registrant, holder, both]) {
      const items = (await t.app.inject({ method: 'GET', url: '/notifications', headers: who.auth })).json().items;
      const announcements = items.filter((n: { type: string }) => n.type === 'announcement');
      expect(announcements).toHaveLength(1);
      expect(announcements[0]).toMatchObject({ title: 'Message from the organizer of Jazz Night', body: 'Doors open at 18:30.', eventId: 'evt_jazz' });
    }
    const left = (await t.app.inject({ method: 'GET', url: '/notifications', headers: withdrawn.auth })).json().items;
    expect(left.some((n: { type: string }) => n.type === 'announcement')).toBe(false);
    expect((await t.app.inject({ method: 'GET', url: '/notifications', headers: stranger.auth })).json().items).toEqual([]);
  });

  it('allows an admin and answers 404 for an event engagement has not heard of', async () => {
    const organizer = await signUp(t.app, 'organizer');
    await deliver(t.app, [msg.published(snapshot({ organizerId: organizer.id }))]);
    const accounts = new (await import('../src/identity/accounts.js')).Accounts(t.store, t.keys, { accessTtlSeconds: 3600, refreshTtlSeconds: 86_400, secret: TEST_SECRET });
    await accounts.ensureAdmin('root@example.com', PASSWORD);
    const session = await t.app.inject({ method: 'POST', url: '/sessions', payload: { email: 'root@example.com', password: PASSWORD } });
    const admin = { authorization: `Bearer ${session.json().token}` };
    expect(session.json().user.role).toBe('admin');

    const ok = await t.app.inject({ method: 'POST', url: '/announcements', headers: admin, payload: { eventId: 'evt_jazz', message: 'Hi' } });
    expect(ok.statusCode).toBe(201);
    expect(ok.json().recipients).toBe(0);
    const missing = await t.app.inject({ method: 'POST', url: '/announcements', headers: organizer.auth, payload: { eventId: 'evt_nope', message: 'Hi' } });
    expect(missing.statusCode).toBe(404);
    expect(missing.json().code).toBe('EVENT_NOT_FOUND');
    const unknownField = await t.app.inject({
      method: 'POST',
      url: '/announcements',
      headers: organizer.auth,
      payload: { eventId: 'evt_jazz', message: 'Hi', urgent: true },
    });
    expect(unknownField.statusCode).toBe(400);
    const noToken = await t.app.inject({ method: 'POST', url: '/announcements', payload: { eventId: 'evt_jazz', message: 'Hi' } });
    expect(noToken.statusCode).toBe(401);
  });

  /** An organizer's event with one registrant, on an app with the given announcement limits. */
  async function announcing(limits: { perEventPerHour: number; perEventTotal: number }) {
    await t.close();
    t = await testApp({ announcementLimits: limits });
    const organizer = await signUp(t.app, 'organizer', 'Olive');
    const registrant = await signUp(t.app);
    await deliver(t.app, [msg.published(snapshot({ organizerId: organizer.id })), msg.registered(registrant.id)]);
    await deliver(t.app, [msg.published(snapshot({ id: 'evt_other', organizerId: organizer.id })), msg.registered(registrant.id, 'evt_other')]);
    const announce = (eventId = 'evt_jazz') => t.app.inject({ method: 'POST', url: '/announcements', headers: organizer.auth, payload: { eventId, message: 'Doors open at 7.' } });
    return { announce, registrant };
  }

  it('limits announcements per event per hour with 429 and Retry-After, and tells nobody of a refused one', async () => {
    const { announce, registrant } = await announcing({ perEventPerHour: 2, perEventTotal: 100 });
    for (let i = 0; i < 2; i++) expect((await announce()).statusCode).toBe(201);
    const limited = await announce();
    expect(limited.statusCode).toBe(429);
    expect(limited.json()).toMatchObject({ code: 'RATE_LIMITED', message: expect.stringContaining('2 announcements in the last hour') });
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(3500);
    expect(Number(limited.headers['retry-after'])).toBeLessThanOrEqual(3600);
    // Another event of the same organizer has its own allowance.
    expect((await announce('evt_other')).statusCode).toBe(201);
    const heard = (await t.app.inject({ method: 'GET', url: '/notifications', headers: registrant.auth })).json().items;
    expect(heard.filter((n: { type: string }) => n.type === 'announcement')).toHaveLength(3);
  });

  it('limits announcements per event in all with 409 ANNOUNCEMENT_LIMIT_REACHED', async () => {
    const { announce } = await announcing({ perEventPerHour: 10, perEventTotal: 3 });
    for (let i = 0; i < 3; i++) expect((await announce()).statusCode).toBe(201);
    const refused = await announce();
    expect(refused.statusCode).toBe(409);
    expect(refused.json()).toMatchObject({ code: 'ANNOUNCEMENT_LIMIT_REACHED', message: expect.stringContaining('3 announcements') });
  });

  it('creates the bootstrap admin only once', async () => {
    const { Accounts } = await import('../src/identity/accounts.js');
    const accounts = new Accounts(t.store, t.keys, { accessTtlSeconds: 3600, refreshTtlSeconds: 86_400, secret: TEST_SECRET });
    expect(await accounts.ensureAdmin('Root@example.com', PASSWORD)).toBe('created');
    expect(await accounts.ensureAdmin('root@example.com', 'another password')).toBe('exists');
    const login = await t.app.inject({ method: 'POST', url: '/sessions', payload: { email: 'root@example.com', password: PASSWORD } });
    expect(login.statusCode).toBe(200);
  });
});

describe('service surface', () => {
  it('serves health, readiness and an OpenAPI document listing its routes', async () => {
    expect((await t.app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    expect((await t.app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(200);
    const doc = (await t.app.inject({ method: 'GET', url: '/openapi.json' })).json();
    for (const path of ['/users', '/sessions', '/me', '/notifications', '/notifications/{id}/read', '/announcements', '/.well-known/jwks.json']) {
      expect(doc.paths).toHaveProperty([path]);
    }
  });
});
