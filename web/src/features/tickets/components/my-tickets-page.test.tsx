import { screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Ticket } from '@dems/contracts';
import { attendeeSession, json, renderApp } from '@/test/render';
import { MyTicketsPage } from './my-tickets-page';

function ticket(id: string, eventId: string, eventTitle: string, event: Partial<Ticket> = {}): Ticket {
  return {
    id,
    code: `DEMS-${id.toUpperCase().padEnd(4, 'X').slice(0, 4)}-AAAA-BBBB-CCCC`,
    status: 'valid',
    orderId: `ord_${id}`,
    eventId,
    eventTitle,
    eventVenue: 'Blue Room',
    eventTimezone: 'Europe/Berlin',
    eventStartsAt: '2030-06-01T19:00:00.000Z',
    eventEndsAt: '2030-06-01T22:00:00.000Z',
    eventStatus: 'published',
    ticketTypeId: 'tt_ga',
    ticketTypeName: 'General admission',
    priceCents: 2500,
    currency: 'USD',
    createdAt: '2029-01-01T00:00:00.000Z',
    cancelledAt: null,
    ...event,
  };
}

const folk = { eventVenue: 'Old Barn', eventTimezone: 'America/New_York', eventStatus: 'cancelled' as const };

/**
 * A fake tickets API (the server is not under test here): two pages, the second behind the first one's cursor.
 * Anything else is answered 404 and recorded in `other`: the page needs nothing but its tickets.
 */
function fakeTicketsServer(second: 'ok' | 'fails' = 'ok') {
  const asked: string[] = [];
  const other: string[] = [];
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
        return json({ items: [ticket('t3', 'evt_b', 'Folk Evening', folk), ticket('t4', 'evt_a', 'Jazz Night')], nextCursor: null });
      }
      other.push(path);
      return json({ code: 'NOT_FOUND', message: 'No route.', requestId: 'r' }, 404);
    }),
  );
  return { asked, other };
}

afterEach(() => vi.unstubAllGlobals());

describe('My tickets', () => {
  it('shows the first page, and "Show more tickets" adds the next one until there is none', async () => {
    const { asked, other } = fakeTicketsServer();
    renderApp(<MyTicketsPage />, { session: attendeeSession });
    expect(await screen.findByRole('heading', { name: 'Jazz Night' })).toBeInTheDocument();
    // Where and when, in the event's own time zone, from the tickets alone: 19:00–22:00 UTC ends past midnight in Berlin.
    expect(screen.getByTestId('ticket-group')).toHaveTextContent('Sat, Jun 1, 2030, 9:00 PM – Sun, Jun 2, 12:00 AM GMT+2 · Blue Room');
    expect(screen.getAllByTestId('ticket')).toHaveLength(2);
    expect(screen.queryByRole('heading', { name: 'Folk Evening' })).toBeNull();
    expect(asked).toEqual(['limit=50']);

    await userEvent.click(screen.getByRole('button', { name: 'Show more tickets' }));
    expect(await screen.findByRole('heading', { name: 'Folk Evening' })).toBeInTheDocument();
    // The next page's Jazz Night ticket joins its event's group instead of starting another.
    expect(screen.getAllByTestId('ticket-group')).toHaveLength(2);
    expect(screen.getAllByTestId('ticket')).toHaveLength(4);
    expect(asked).toEqual(['limit=50', 'limit=50&cursor=page-2']);
    const folkGroup = screen.getAllByTestId('ticket-group').find((g) => g.textContent?.includes('Folk Evening'))!;
    expect(folkGroup).toHaveTextContent('Sat, Jun 1, 2030, 3:00 PM – 6:00 PM EDT · Old Barn');
    expect(folkGroup).toHaveTextContent('This event was cancelled; its tickets have been refunded.');
    expect(screen.getAllByText('This event was cancelled; its tickets have been refunded.')).toHaveLength(1);
    expect(other).toEqual([]);
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
