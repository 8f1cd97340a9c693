import { screen } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Registration } from '@dems/contracts';
import { testEvent } from '@/test/fixtures';
import { readerInZone } from '@/test/reader-zone';
import { json, organizerSession, renderApp } from '@/test/render';
import { EventDashboardPage } from './event-dashboard-page';
import { MyEventsPage } from './my-events-page';

// 05:00–10:00 UTC: an evening in Los Angeles that ends after midnight there.
const event = testEvent({ timezone: 'America/Los_Angeles', startsAt: '2099-12-16T05:00:00.000Z', endsAt: '2099-12-16T10:00:00.000Z' });
const inLosAngeles = 'Tue, Dec 15, 2099, 9:00 PM – Wed, Dec 16, 2:00 AM PST';
const attendee: Registration = {
  id: 'reg-1',
  eventId: event.id,
  userId: 'user-1',
  userName: 'Ada',
  userEmail: 'ada@example.com',
  eventTitle: event.title,
  eventStartsAt: event.startsAt,
  eventEndsAt: event.endsAt,
  eventTimezone: event.timezone,
  eventStatus: 'published',
  createdAt: '2099-11-01T09:30:00.000Z',
};

/** The organizer's API, faked (the services are tested on their own): the event, its attendees; nothing else. */
function fakeOrganizerApi() {
  vi.stubGlobal(
    'fetch',
    vi.fn(async (url: string | URL | Request) => {
      const path = String(url);
      if (path.startsWith('/api/events?')) return json({ items: [event], nextCursor: null });
      if (path === `/api/events/${event.id}`) return json(event);
      if (path.startsWith(`/api/events/${event.id}/registrations?`)) return json({ items: [attendee], nextCursor: null });
      return json({ code: 'NOT_FOUND', message: 'No route.', requestId: 'r' }, 404);
    }),
  );
}

describe("the organizer's pages", () => {
  // The organizer reads from Auckland: the event's times stay Los Angeles times.
  readerInZone('Pacific/Auckland');
  afterEach(() => vi.unstubAllGlobals());

  it("My events shows each event's time in its own zone, with the end's date", async () => {
    fakeOrganizerApi();
    renderApp(<MyEventsPage />, { session: organizerSession });
    expect(await screen.findByTestId('event-time')).toHaveTextContent(inLosAngeles);
  });

  it("the dashboard shows the event's time in its zone, and when someone registered in the organizer's own", async () => {
    fakeOrganizerApi();
    renderApp(<EventDashboardPage id={event.id} />, { session: organizerSession });
    expect(await screen.findByTestId('event-time')).toHaveTextContent(inLosAngeles);
    // 09:30 UTC on Nov 1 is 10:30 PM in Auckland (UTC+13 in its summer), named so, beside event times in another zone.
    expect(await screen.findByRole('cell', { name: 'Sun, Nov 1, 2099, 10:30 PM GMT+13' })).toBeInTheDocument();
  });
});
