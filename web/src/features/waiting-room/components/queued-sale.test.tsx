import { act, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import type { Availability, QueueEntry, WaitingRoom } from '@dems/contracts';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { testEvent } from '@/test/fixtures';
import { attendeeSession, fakeSocket, json, renderApp } from '@/test/render';
import { BuyTickets } from '@/features/tickets';
import { QueuedSale } from './queued-sale';

const event = testEvent({ ticketTypes: [{ id: 'tt-gen', name: 'General', priceCents: 2500, currency: 'EUR', capacity: 50 }] });
const availability: Availability = {
  eventId: 'ev-1',
  ticketTypes: [{ ticketTypeId: 'tt-gen', name: 'General', priceCents: 2500, currency: 'EUR', capacity: 50, sold: 0, remaining: 50 }],
};
const order = {
  id: 'o1',
  userId: 'user-1',
  eventId: 'ev-1',
  eventTitle: 'Jazz Night',
  ticketTypeId: 'tt-gen',
  quantity: 1,
  totalCents: 2500,
  refundedCents: 0,
  currency: 'EUR',
  status: 'confirmed',
  refundStatus: 'none',
  createdAt: '2025-01-01T00:00:00.000Z',
  tickets: [],
};

const iso = (ms: number) => new Date(ms).toISOString();

/** A room that opened a minute ago, letting one buyer in per second; `now` is the server's clock. */
function openRoom(over: Partial<WaitingRoom> = {}, now = Date.now()): WaitingRoom {
  return { eventId: 'ev-1', opensAt: iso(now - 60_000), admitPerMinute: 60, passMinutes: 10, joined: 12, admittedThrough: 2, soldOut: false, now: iso(now), ...over };
}

const entryAt = (admitAtMs: number, over: Partial<QueueEntry> = {}): QueueEntry => ({
  eventId: 'ev-1',
  position: 10,
  admitAt: iso(admitAtMs),
  token: 'token-10',
  admittedThrough: 2,
  admitPerMinute: 60,
  soldOut: false,
  ...over,
});

const error = (code: string, status: number, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify({ code, message: 'Said for programs.', requestId: 'r' }), { status, headers: { 'content-type': 'application/json', ...headers } });

/**
 * The test's only stand-in for the server (a fake fetch): the room, its entries and passes, and orders, each
 * answered by a function the test can change; every request is recorded with its queue-pass header.
 */
function fakeServer(answers: { room: () => Response; join?: () => Response; pass?: () => Response; order?: () => Response }) {
  const calls: { method: string; path: string; body: unknown; queuePass: string | null }[] = [];
  vi.stubGlobal(
    'fetch',
    vi.fn(async (url: string | URL | Request, init?: RequestInit) => {
      const path = String(url);
      const method = init?.method ?? 'GET';
      calls.push({ method, path, body: init?.body ? JSON.parse(String(init.body)) : undefined, queuePass: new Headers(init?.headers).get('queue-pass') });
      if (path === '/api/waiting-rooms/ev-1' && method === 'GET') return answers.room();
      if (path === '/api/waiting-rooms/ev-1/entries' && answers.join) return answers.join();
      if (path === '/api/waiting-rooms/ev-1/passes' && answers.pass) return answers.pass();
      if (path === '/api/orders' && answers.order) return answers.order();
      return error('NOT_FOUND', 404);
    }),
  );
  return { calls, to: (suffix: string) => calls.filter((c) => c.path === `/api/waiting-rooms/ev-1${suffix}` && c.method === 'POST') };
}

const renderSale = (session = attendeeSession, socket = fakeSocket()) =>
  renderApp(
    <QueuedSale event={event}>
      {(queuePass) => <BuyTickets event={event} availability={{ data: availability, isPending: false, error: null }} newKey={() => 'key-1'} queuePass={queuePass} />}
    </QueuedSale>,
    { session, path: '/events/ev-1', socket },
  );

const storedPlace = () => JSON.parse(sessionStorage.getItem('dems.waiting-room.ev-1') ?? 'null') as { userId: string; entry: QueueEntry; pass?: { pass: string } } | null;

afterEach(() => vi.unstubAllGlobals());

describe('QueuedSale: the buyer’s waiting room', () => {
  it('without a waiting room it is the ticket list as usual, and Buy sends no pass', async () => {
    const server = fakeServer({ room: () => error('WAITING_ROOM_NOT_FOUND', 404), order: () => json(order, 201) });
    renderSale();
    await userEvent.setup().click(await screen.findByRole('button', { name: /Buy · €25\.00/ }));
    await screen.findByText(/1 ticket confirmed/);
    expect(server.calls.find((c) => c.path === '/api/orders')?.queuePass).toBeNull();
    expect(screen.queryByText(/Queued sale/)).toBeNull();
  });

  it('a signed-out visitor sees the queued sale and is sent to sign in and brought back, not offered Buy', async () => {
    const opensAt = Date.parse('2099-07-01T17:00:00.000Z');
    fakeServer({ room: () => json(openRoom({ opensAt: iso(opensAt) })) });
    renderSale(null as never);
    // In the event's zone (Lisbon, summer time), not the browser's.
    expect(await screen.findByTestId('queued-sale')).toHaveTextContent('Queued sale — opens Wed, Jul 1, 2099, 6:00 PM GMT+1');
    expect(screen.getByRole('link', { name: 'Sign in to join the queue' })).toHaveAttribute('href', '/signin?next=%2Fevents%2Fev-1');
    expect(screen.queryByRole('button', { name: /Buy|Join/ })).toBeNull();
  });

  it('joining shows the place and the people ahead counting down each second, then fetches the pass (after Retry-After) and Buy sends it', async () => {
    const now = Date.now();
    let passAnswers = [() => error('NOT_ADMITTED_YET', 409, { 'retry-after': '1' }), () => json({ pass: 'pass-10', expiresAt: iso(Date.now() + 600_000) }, 201)];
    const server = fakeServer({
      room: () => json(openRoom()),
      // Admitted 3.2 s from now at one per second: 4 people ahead, then 3, 2, 1.
      join: () => json(entryAt(now + 3200), 201),
      pass: () => passAnswers.shift()!(),
      order: () => json(order, 201),
    });
    renderSale();
    const user = userEvent.setup();
    expect(screen.queryByRole('button', { name: /Buy/ })).toBeNull();
    await user.click(await screen.findByRole('button', { name: 'Join the queue' }));

    const waiting = await screen.findByTestId('queue-waiting');
    expect(within(waiting).getByTestId('queue-position')).toHaveTextContent('#10');
    expect(within(waiting).getByTestId('queue-ahead')).toHaveTextContent('4');
    expect(within(waiting).getByTestId('queue-ahead')).toHaveAttribute('aria-live', 'polite');
    expect(within(waiting).getByRole('progressbar', { name: 'Your way through the queue' })).toHaveAttribute('aria-valuenow', '6');
    expect(within(waiting).getByRole('progressbar')).toHaveAttribute('aria-valuemax', '10');
    expect(waiting).toHaveTextContent('Keep this tab open — we’ll let you in automatically.');
    expect(within(waiting).getByTestId('queue-estimate')).toHaveTextContent('in less than a minute');
    await waitFor(() => expect(screen.getByTestId('queue-ahead')).toHaveTextContent('3'), { timeout: 2000 });
    expect(storedPlace()).toMatchObject({ userId: 'user-1', entry: { token: 'token-10', position: 10 } });

    // Admitted: the pass is asked for with the token; "not yet" (a clock a little behind) is asked again after Retry-After.
    await screen.findByText('You’re in — you have 10 minutes', {}, { timeout: 6000 });
    expect(server.to('/passes').map((c) => c.body)).toEqual([{ token: 'token-10' }, { token: 'token-10' }]);
    expect(screen.getByRole('timer', { name: 'Time left to buy' })).toHaveTextContent(/^(10:00|9:5\d)$/);
    expect(storedPlace()?.pass?.pass).toBe('pass-10');

    await user.click(screen.getByRole('button', { name: /Buy · €25\.00/ }));
    await screen.findByText(/1 ticket confirmed/);
    expect(server.calls.filter((c) => c.path === '/api/orders').map((c) => c.queuePass)).toEqual(['pass-10']);
    passAnswers = [];
  }, 15_000);

  it('a reload keeps the place and the pass (sessionStorage), without joining again', async () => {
    const server = fakeServer({ room: () => json(openRoom()), join: () => json(entryAt(Date.now() + 60_000), 201) });
    const first = renderSale();
    await userEvent.setup().click(await screen.findByRole('button', { name: 'Join the queue' }));
    await screen.findByTestId('queue-waiting');
    first.unmount();

    renderSale();
    expect(await screen.findByTestId('queue-position')).toHaveTextContent('#10');
    expect(server.to('/entries')).toHaveLength(1);
  });

  it('counts with the server’s clock, not this device’s (an hour off here)', async () => {
    const serverNow = Date.now() + 3_600_000;
    fakeServer({ room: () => json(openRoom({}, serverNow)), join: () => json(entryAt(serverNow + 30_000), 201) });
    renderSale();
    await userEvent.setup().click(await screen.findByRole('button', { name: 'Join the queue' }));
    // 30 s at one a second: 30 ahead, give or take the second the test takes (by this device's clock it would be 3,630).
    await waitFor(() => expect(Number(screen.getByTestId('queue-ahead').textContent)).toBeGreaterThanOrEqual(28));
    expect(Number(screen.getByTestId('queue-ahead').textContent)).toBeLessThanOrEqual(30);
  });

  it('before the sale opens, the people ahead are the ones who joined before (not the minutes until opening)', async () => {
    const now = Date.now();
    const opensAt = now + 3_600_000;
    fakeServer({ room: () => json(openRoom({ opensAt: iso(opensAt), admittedThrough: 0 }, now)), join: () => json(entryAt(opensAt + 9000), 201) });
    renderSale();
    await userEvent.setup().click(await screen.findByRole('button', { name: 'Join the queue' }));
    expect(await screen.findByTestId('queue-ahead')).toHaveTextContent(/^9$/);
    expect(screen.getByTestId('queue-waiting')).toHaveTextContent('Everyone who joined before then is let in in the order they joined.');
  });

  it('says Sold out when the room does, and offers no way to join', async () => {
    fakeServer({ room: () => json(openRoom({ soldOut: true })) });
    renderSale();
    expect(await screen.findByTestId('queue-sold-out')).toHaveTextContent('Sold out.');
    expect(screen.queryByRole('button')).toBeNull();
  });

  it('an expired pass is explained, Buy is gone, and joining again takes a new place', async () => {
    const now = Date.now();
    sessionStorage.setItem('dems.waiting-room.ev-1', JSON.stringify({ userId: 'user-1', entry: entryAt(now - 700_000), pass: { pass: 'old-pass', expiresAt: iso(now - 1000) } }));
    const server = fakeServer({ room: () => json(openRoom()), join: () => json(entryAt(now + 60_000, { position: 40, token: 'token-40' }), 201) });
    renderSale();
    expect(await screen.findByTestId('queue-expired')).toHaveTextContent('Your time to buy ran out. Passes last 10 minutes');
    expect(screen.queryByRole('button', { name: /Buy/ })).toBeNull();
    await userEvent.setup().click(screen.getByRole('button', { name: 'Join the queue again' }));
    expect(await screen.findByTestId('queue-position')).toHaveTextContent('#40');
    expect(server.to('/entries')).toHaveLength(1);
    expect(storedPlace()).toMatchObject({ entry: { token: 'token-40' } });
    expect(storedPlace()?.pass).toBeUndefined();
  });

  it('a token whose pass window is over (QUEUE_PASS_EXPIRED) shows the expired state, not a spinner', async () => {
    sessionStorage.setItem('dems.waiting-room.ev-1', JSON.stringify({ userId: 'user-1', entry: entryAt(Date.now() - 1000) }));
    fakeServer({ room: () => json(openRoom()), pass: () => error('QUEUE_PASS_EXPIRED', 409) });
    renderSale();
    expect(await screen.findByTestId('queue-expired')).toBeInTheDocument();
    expect(screen.getByRole('button', { name: 'Join the queue again' })).toBeInTheDocument();
  });

  it('a purchase refused for the pass (QUEUE_PASS_INVALID) ends the pass and offers the queue again', async () => {
    sessionStorage.setItem(
      'dems.waiting-room.ev-1',
      JSON.stringify({ userId: 'user-1', entry: entryAt(Date.now() - 1000), pass: { pass: 'pass-10', expiresAt: iso(Date.now() + 300_000) } }),
    );
    fakeServer({ room: () => json(openRoom()), order: () => error('QUEUE_PASS_INVALID', 403) });
    renderSale();
    expect(await screen.findByText('You’re in — you have 5 minutes')).toBeInTheDocument();
    await userEvent.setup().click(screen.getByRole('button', { name: /Buy/ }));
    expect(await screen.findByTestId('queue-expired')).toBeInTheDocument();
  });

  it('another user’s place in this tab is not theirs', async () => {
    sessionStorage.setItem(
      'dems.waiting-room.ev-1',
      JSON.stringify({ userId: 'someone-else', entry: entryAt(Date.now() - 1000), pass: { pass: 'theirs', expiresAt: iso(Date.now() + 300_000) } }),
    );
    fakeServer({ room: () => json(openRoom()) });
    renderSale();
    expect(await screen.findByRole('button', { name: 'Join the queue' })).toBeInTheDocument();
    expect(screen.queryByRole('button', { name: /Buy/ })).toBeNull();
  });

  it('watches the room over the socket: a changed rate re-counts at once; a room turned off shows the tickets', async () => {
    const now = Date.now();
    fakeServer({ room: () => json(openRoom({}, now)), join: () => json(entryAt(now + 60_000), 201) });
    const live = fakeSocket();
    renderSale(attendeeSession, live);
    act(() => live.socket.emitFromServer('connect'));
    await userEvent.setup().click(await screen.findByRole('button', { name: 'Join the queue' }));
    await screen.findByTestId('queue-waiting');
    expect(live.socket.emit).toHaveBeenCalledWith('waiting-room:watch', { eventId: 'ev-1' });
    const before = Number(screen.getByTestId('queue-ahead').textContent);
    expect(before).toBeGreaterThanOrEqual(58);

    // Twice the rate: the same admission time is twice as many people away.
    act(() => live.socket.emitFromServer('waiting-room', { eventId: 'ev-1', room: { opensAt: iso(now - 60_000), admitPerMinute: 120, passMinutes: 10 }, now: iso(Date.now()) }));
    await waitFor(() => expect(Number(screen.getByTestId('queue-ahead').textContent)).toBeGreaterThanOrEqual(2 * before - 4));
    // Another room's news is not this one's.
    act(() => live.socket.emitFromServer('waiting-room', { eventId: 'ev-2', room: null, now: iso(Date.now()) }));
    expect(screen.getByTestId('queue-waiting')).toBeInTheDocument();

    act(() => live.socket.emitFromServer('waiting-room', { eventId: 'ev-1', room: null, now: iso(Date.now()) }));
    expect(await screen.findByRole('button', { name: /Buy · €25\.00/ })).toBeInTheDocument();
    expect(screen.queryByTestId('queue-waiting')).toBeNull();
  });
});
