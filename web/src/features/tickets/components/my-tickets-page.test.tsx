import { screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Ticket } from '@dems/contracts';
import { testEvent } from '@/test/fixtures';
import { attendeeSession, json, renderApp } from '@/test/render';
import { MyTicketsPage } from './my-tickets-page';

function ticket(id: string, eventId: string, eventTitle: string): Ticket {
  return {
    id,
    code: `DEMS-${id.toUpperCase().padEnd(4, 'X').slice(0, 4)}-AAAA-BBBB-CCCC`,
    status: 'valid',
    orderId: `ord_${id}`,
    eventId,
    eventTitle,
    eventStartsAt: '2030-06-01T19:00:00.000Z',
    ticketTypeId: 'tt_ga',
    ticketTypeName: 'General admission',
    priceCents: 2500,
    currency: 'USD',
    createdAt: '2029-01-01T00:00:00.000Z',
    cancelledAt: null,
  };
}

/** A fake tickets API (the server is not under test here): two pages, the second behind the first one's cursor. */
function fakeTicketsServer(second: 'ok' | 'fails' = 'ok') {
  const asked: string[] = [];
  vi.stubGlobal(
    'fetch',
    vi.fn(async (url: string | URL | Request) => {
      const path = String(url);
      if (path.startsWith('/api/tickets?')) {
        const query = new URLSearchParams(path.split('?')[1]);
        asked.push(query.toString());
        if (!query.has('cursor')) return json({ items: [ticket('t1', 'evt_a', 'Jazz Night'), ticket('t2', 'evt_a', 'Jazz Night')], nextCursor: 'page-2' });
        // Not retried by the app (a 4xx), so the test need not wait out the retries of a 5xx.
        if (second === 'fails') return json({ code: 'VALIDATION_FAILED', message: 'query.cursor: this cursor is not valid.', requestId: 'r' }, 400);
        return json({ items: [ticket('t3', 'evt_b', 'Folk Evening'), ticket('t4', 'evt_a', 'Jazz Night')], nextCursor: null });
      }
      const event = /^\/api\/events\/(\w+)$/.exec(path);
      if (event) return json(testEvent({ id: event[1], title: event[1] === 'evt_a' ? 'Jazz Night' : 'Folk Evening' }));
      return json({ code: 'NOT_FOUND', message: 'No route.', requestId: 'r' }, 404);
    }),
  );
  return asked;
}

afterEach(() => vi.unstubAllGlobals());

describe('My tickets', () => {
  it('shows the first page, and "Show more tickets" adds the next one until there is none', async () => {
    const asked = fakeTicketsServer();
    renderApp(<MyTicketsPage />, { session: attendeeSession });
    expect(await screen.findByRole('heading', { name: 'Jazz Night' })).toBeInTheDocument();
    expect(screen.getAllByTestId('ticket')).toHaveLength(2);
    expect(screen.queryByRole('heading', { name: 'Folk Evening' })).toBeNull();
    expect(asked).toEqual(['limit=50']);

    await userEvent.click(screen.getByRole('button', { name: 'Show more tickets' }));
    expect(await screen.findByRole('heading', { name: 'Folk Evening' })).toBeInTheDocument();
    // The next page's Jazz Night ticket joins its event's group instead of starting another.
    expect(screen.getAllByTestId('ticket-group')).toHaveLength(2);
    expect(screen.getAllByTestId('ticket')).toHaveLength(4);
    expect(asked).toEqual(['limit=50', 'limit=50&cursor=page-2']);
    await waitFor(() => expect(screen.queryByRole('button', { name: 'Show more tickets' })).toBeNull());
  });

  it('keeps the tickets it has when the next page fails, and says so', async () => {
    fakeTicketsServer('fails');
    renderApp(<MyTicketsPage />, { session: attendeeSession });
    await userEvent.click(await screen.findByRole('button', { name: 'Show more tickets' }));
    expect(await screen.findByRole('alert')).toBeInTheDocument();
    expect(screen.getAllByTestId('ticket')).toHaveLength(2);
  });
});
