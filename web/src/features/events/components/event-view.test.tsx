import { screen } from '@testing-library/react';
import type { Availability, Event } from '@dems/contracts';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { testEvent } from '@/test/fixtures';
import { json, renderApp } from '@/test/render';
import { EventView } from './event-view';

afterEach(() => {
  vi.unstubAllGlobals();
});

const general = { id: 'tt-gen', name: 'General', priceCents: 2500, currency: 'EUR', capacity: 50 };

/** The only stand-in for the server: the event and its availability, as the API answers them. */
function serve(event: Event, sold: number) {
  const availability: Availability = { eventId: event.id, ticketTypes: event.ticketTypes.map((t) => ({ ...t, ticketTypeId: t.id, sold, remaining: t.capacity - sold })) };
  vi.stubGlobal(
    'fetch',
    vi.fn(async (url: string | URL | Request) => {
      const path = new URL(String(url), 'http://localhost').pathname;
      if (path === `/api/events/${event.id}`) return json(event);
      if (path === `/api/availability/${event.id}`) return json(availability);
      return json({ code: 'NOT_FOUND', message: 'Not here.', requestId: 'r' }, 404);
    }),
  );
}

const slots = { tickets: () => null, rsvp: () => <p>rsvp slot</p> };

describe('EventView: who is coming, and what an RSVP is', () => {
  it('a paid event with tickets sold and no RSVPs counts the tickets, never "0 people", and calls its RSVP interest', async () => {
    serve(testEvent({ ticketTypes: [general], registrationCount: 0 }), 3);
    renderApp(<EventView id="ev-1" slots={slots} />);
    expect(await screen.findByTestId('attendance')).toHaveTextContent('3 tickets sold');
    expect(screen.queryByText(/0 people/)).toBeNull();
    expect(screen.getByRole('heading', { name: 'Interested? RSVP' })).toBeInTheDocument();
  });

  it('a free event counts free tickets and RSVPs apart, and its RSVP is the free one', async () => {
    serve(testEvent({ ticketTypes: [{ ...general, priceCents: 0 }], registrationCount: 2, registrationLimit: 30 }), 1);
    renderApp(<EventView id="ev-1" slots={slots} />);
    expect(await screen.findByText('1 ticket taken · 2 RSVPs (limit 30)')).toBeInTheDocument();
    expect(screen.getByRole('heading', { name: 'Free RSVP' })).toBeInTheDocument();
  });
});
