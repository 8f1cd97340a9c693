import { screen, within } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Registration } from '@dems/contracts';
import { readerInZone } from '@/test/reader-zone';
import { attendeeSession, json, renderApp } from '@/test/render';
import { MyRegistrationsPage } from './my-registrations-page';

const registration = (id: string, event: Partial<Registration>): Registration => ({
  id,
  eventId: `evt_${id}`,
  userId: 'user-1',
  userName: 'Ada',
  userEmail: 'ada@example.com',
  eventTitle: `Event ${id}`,
  eventStartsAt: '2099-12-16T05:00:00.000Z',
  eventEndsAt: '2099-12-16T10:00:00.000Z',
  eventTimezone: 'America/Los_Angeles',
  eventStatus: 'published',
  createdAt: '2025-01-01T00:00:00.000Z',
  ...event,
});

describe('My registrations', () => {
  // The reader is in Auckland, far from every event: what they see must not depend on it.
  readerInZone('Pacific/Auckland');
  afterEach(() => vi.unstubAllGlobals());

  it("shows each event's time in its own zone, and a cancelled or past event as such, not as a current registration", async () => {
    const items = [
      registration('late', {}),
      registration('off', { eventStatus: 'cancelled', eventTimezone: 'Europe/Berlin', eventStartsAt: '2099-07-14T17:00:00.000Z', eventEndsAt: '2099-07-14T20:00:00.000Z' }),
      registration('past', { eventTimezone: 'Asia/Kolkata', eventStartsAt: '2020-07-14T13:30:00.000Z', eventEndsAt: '2020-07-14T16:00:00.000Z' }),
      // Called off and in the past: it never took place.
      registration('gone', { eventStatus: 'cancelled', eventStartsAt: '2020-07-14T13:30:00.000Z', eventEndsAt: '2020-07-14T16:00:00.000Z' }),
    ];
    vi.stubGlobal(
      'fetch',
      vi.fn(async (url: string | URL | Request) =>
        String(url).startsWith('/api/registrations?') ? json({ items, nextCursor: null }) : json({ code: 'NOT_FOUND', message: 'No route.', requestId: 'r' }, 404),
      ),
    );
    renderApp(<MyRegistrationsPage />, { session: attendeeSession });
    await screen.findByRole('link', { name: 'Event late' });
    const row = (title: string) => screen.getAllByTestId('registration').find((li) => within(li).queryByRole('link', { name: title }))!;
    const shown = (title: string) => ({ time: within(row(title)).getByTestId('event-time').textContent, badge: row(title).querySelector('.badge')?.textContent });

    // 05:00–10:00 UTC is an evening in Los Angeles that ends after midnight there.
    expect(shown('Event late')).toEqual({ time: 'Tue, Dec 15, 2099, 9:00 PM – Wed, Dec 16, 2:00 AM PST', badge: 'Registered' });
    expect(shown('Event off')).toEqual({ time: 'Tue, Jul 14, 2099, 7:00 PM – 10:00 PM GMT+2', badge: 'Event cancelled' });
    expect(shown('Event past')).toEqual({ time: 'Tue, Jul 14, 2020, 7:00 PM – 9:30 PM GMT+5:30', badge: 'Took place' });
    expect(shown('Event gone').badge).toBe('Event cancelled');
  });
});
