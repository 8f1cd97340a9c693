import { act, screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import type { Availability } from '@dems/contracts';
import { useState } from 'react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { testEvent } from '@/test/fixtures';
import { attendeeSession, json, renderApp } from '@/test/render';
import { BuyTickets } from './buy-tickets';

const event = testEvent({
  ticketTypes: [
    { id: 'tt-gen', name: 'General', priceCents: 2500, currency: 'EUR', capacity: 50 },
    { id: 'tt-vip', name: 'VIP', priceCents: 8000, currency: 'EUR', capacity: 1 },
  ],
});

const availability: Availability = {
  eventId: 'ev-1',
  ticketTypes: [
    { ticketTypeId: 'tt-gen', name: 'General', priceCents: 2500, currency: 'EUR', capacity: 50, sold: 48, remaining: 2 },
    { ticketTypeId: 'tt-vip', name: 'VIP', priceCents: 8000, currency: 'EUR', capacity: 1, sold: 1, remaining: 0 },
  ],
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

/** A fake fetch (the test's only stand-in for the server): answers orders after `release()` is called. */
function fakeOrderServer(answer: () => Response) {
  const calls: { key: string | null; body: unknown }[] = [];
  let release: () => void = () => {};
  const fakeFetch = vi.fn(async (url: string | URL | Request, init?: RequestInit) => {
    const path = String(url);
    if (path === '/api/orders' && init?.method === 'POST') {
      calls.push({ key: new Headers(init.headers).get('idempotency-key'), body: JSON.parse(String(init.body)) });
      await new Promise<void>((resolve) => (release = resolve));
      return answer();
    }
    return json({ code: 'NOT_FOUND', message: 'Not here.', requestId: 'r' }, 404);
  });
  vi.stubGlobal('fetch', fakeFetch);
  return { calls, release: () => release() };
}

afterEach(() => {
  vi.unstubAllGlobals();
});

const renderBuy = () => {
  let n = 0;
  return renderApp(<BuyTickets event={event} availability={{ data: availability, isPending: false, error: null }} newKey={() => `key-${++n}`} />, {
    session: attendeeSession,
    path: '/events/ev-1',
  });
};

describe('BuyTickets', () => {
  it('a double click sends one purchase with one Idempotency-Key, and the button waits while it is pending', async () => {
    const server = fakeOrderServer(() => json(order, 201));
    renderBuy();
    const user = userEvent.setup();
    const buy = screen.getByRole('button', { name: /Buy · €25\.00 General tickets/ });
    await user.dblClick(buy);
    expect(buy).toBeDisabled();
    expect(buy).toHaveTextContent('Buying…');
    server.release();
    await screen.findByText(/1 ticket confirmed/);
    expect(server.calls).toEqual([{ key: 'key-1', body: { eventId: 'ev-1', ticketTypeId: 'tt-gen', quantity: 1 } }]);
  });

  it('a retry after a failure reuses the key; changing the quantity starts a new attempt', async () => {
    let fail = true;
    const server = fakeOrderServer(() => (fail ? json({ code: 'INTERNAL', message: 'boom', requestId: 'r' }, 500) : json(order, 201)));
    renderBuy();
    const user = userEvent.setup();
    await user.click(screen.getByRole('button', { name: /Buy/ }));
    server.release();
    await screen.findByText('Something went wrong on our side. Please try again.');
    await user.click(screen.getByRole('button', { name: /Buy/ }));
    server.release();
    await screen.findByText('Something went wrong on our side. Please try again.');
    expect(server.calls.map((c) => c.key)).toEqual(['key-1', 'key-1']);

    await user.selectOptions(screen.getByLabelText('Quantity of General tickets'), '2');
    fail = false;
    await user.click(screen.getByRole('button', { name: /Buy · €50\.00/ }));
    server.release();
    await screen.findByText(/1 ticket confirmed/);
    expect(server.calls.map((c) => c.key)).toEqual(['key-1', 'key-1', 'key-2']);
    expect(server.calls[2]!.body).toMatchObject({ quantity: 2 });
  });

  it('a busy ticketing (503) is asked again with the same key after its Retry-After, and the button says it is still trying', async () => {
    const keys: (string | null)[] = [];
    const answers = [
      () =>
        new Response(JSON.stringify({ code: 'OVERLOADED', message: 'ticketing is too busy to take this request now; nothing was done.', requestId: 'r' }), {
          status: 503,
          headers: { 'content-type': 'application/json', 'retry-after': '1' },
        }),
      () => json(order, 201),
    ];
    vi.stubGlobal(
      'fetch',
      vi.fn(async (_url: string | URL | Request, init?: RequestInit) => {
        keys.push(new Headers(init?.headers).get('idempotency-key'));
        return answers.shift()!();
      }),
    );
    renderBuy();
    const user = userEvent.setup();
    await user.click(screen.getByRole('button', { name: /Buy/ }));
    expect(await screen.findByRole('button', { name: /Busy — still trying…/ })).toBeDisabled();
    expect(screen.queryByRole('alert')).toBeNull();
    await screen.findByText(/1 ticket confirmed/, {}, { timeout: 3000 });
    expect(keys).toEqual(['key-1', 'key-1']);
  });

  it('after others buy seats meanwhile, the quantity, the button total and the purchase all drop to what is left, and stay there', async () => {
    const server = fakeOrderServer(() => json({ code: 'SOLD_OUT', message: 'Sorry — this ticket type is sold out.', requestId: 'r' }, 409));
    const withLeft = (remaining: number): Availability => ({ eventId: 'ev-1', ticketTypes: [{ ...availability.ticketTypes[0]!, sold: 50 - remaining, remaining }] });
    let setLeft: (n: number) => void = () => {};
    function LiveAvailability() {
      const [left, set] = useState(5);
      setLeft = set;
      return (
        <BuyTickets
          event={testEvent({ ticketTypes: [event.ticketTypes[0]!] })}
          availability={{ data: withLeft(left), isPending: false, error: null }}
          newKey={() => `key-${server.calls.length + 1}`}
        />
      );
    }
    renderApp(<LiveAvailability />, { session: attendeeSession, path: '/events/ev-1' });
    const user = userEvent.setup();
    const quantity = screen.getByLabelText('Quantity of General tickets');
    await user.selectOptions(quantity, '3');
    // The first try (3 seats) is refused: others bought in between.
    await user.click(screen.getByRole('button', { name: /Buy · €75\.00/ }));
    server.release();
    await screen.findByRole('alert');

    act(() => setLeft(1));
    expect(quantity).toHaveValue('1');
    expect(screen.getByRole('button', { name: /Buy/ })).toHaveTextContent('Buy · €25.00');
    expect(screen.getByTestId('quantity-lowered')).toHaveTextContent('Only 1 left now, so the quantity was lowered to 1.');

    // Seats coming back do not raise the total the buyer saw drop.
    act(() => setLeft(5));
    expect(quantity).toHaveValue('1');
    expect(screen.getByRole('button', { name: /Buy/ })).toHaveTextContent('Buy · €25.00');

    // What is bought is what the button says, under a new key: a different purchase never replays the refused one.
    await user.click(screen.getByRole('button', { name: /Buy/ }));
    server.release();
    await waitFor(() => expect(server.calls).toHaveLength(2));
    expect(server.calls.map((c) => [c.key, (c.body as { quantity: number }).quantity])).toEqual([
      ['key-1', 3],
      ['key-2', 1],
    ]);
  });

  it('says how many are left when the server answers SOLD_OUT', async () => {
    const server = fakeOrderServer(() => json({ code: 'SOLD_OUT', message: 'Sorry — this ticket type is sold out.', requestId: 'r' }, 409));
    renderBuy();
    const user = userEvent.setup();
    await user.click(screen.getByRole('button', { name: /Buy/ }));
    server.release();
    expect(await screen.findByRole('alert')).toHaveTextContent('Sorry — only 2 tickets left.');
  });

  it('a sold-out type shows Sold out and offers no Buy button; quantities stop at what is left', () => {
    fakeOrderServer(() => json(order, 201));
    renderBuy();
    const vip = screen.getByText('VIP').closest('li')!;
    expect(vip).toHaveTextContent('Sold out');
    expect(vip).toHaveTextContent('Sorry — VIP tickets are sold out.');
    expect(vip.querySelector('button')).toBeNull();
    expect(screen.getAllByRole('button', { name: /Buy/ })).toHaveLength(1);
    expect(screen.getByLabelText('Quantity of General tickets').querySelectorAll('option')).toHaveLength(2);
  });

  it('asks a signed-out visitor to sign in and come back', async () => {
    fakeOrderServer(() => json(order, 201));
    renderApp(<BuyTickets event={event} availability={{ data: availability, isPending: false, error: null }} />, { session: null, path: '/events/ev-1' });
    await waitFor(() => expect(screen.getByRole('link', { name: 'Sign in to buy' })).toHaveAttribute('href', '/signin?next=%2Fevents%2Fev-1'));
  });

  it('stops selling at the end instant, as ticketing does (one millisecond before, Buy is still there)', () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      vi.setSystemTime(Date.parse(event.endsAt) - 1);
      const before = renderBuy();
      expect(screen.getAllByRole('button', { name: /Buy/ })).toHaveLength(1);
      before.unmount();
      vi.setSystemTime(Date.parse(event.endsAt));
      renderBuy();
      expect(screen.getByText('This event is over.')).toBeInTheDocument();
      expect(screen.queryByRole('button', { name: /Buy/ })).toBeNull();
    } finally {
      vi.useRealTimers();
    }
  });
});
