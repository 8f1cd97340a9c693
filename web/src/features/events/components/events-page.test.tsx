import { screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import type { Event } from '@dems/contracts';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { json, renderApp } from '@/test/render';
import { EventsPage, presetRange } from './events-page';

const event = (n: number): Event => ({
  id: `ev-${n}`,
  organizerId: 'org-1',
  title: `Event number ${n}`,
  description: '',
  venue: `Venue ${n}`,
  timezone: 'Asia/Tokyo',
  startsAt: '2099-07-14T10:00:00.000Z',
  endsAt: '2099-07-14T12:00:00.000Z',
  status: 'published',
  registrationLimit: null,
  registrationCount: 0,
  ticketTypes: [{ id: `tt-${n}`, name: 'GA', priceCents: 1500, currency: 'JPY', capacity: 10 }],
  bannerUrl: null,
  bannerSizes: [],
  createdAt: '2025-01-01T00:00:00.000Z',
  updatedAt: '2025-01-01T00:00:00.000Z',
});

/** A fake events + availability API (the real one is tested in services/events): two pages, then a search. */
function fakeEventsApi() {
  const queries: URLSearchParams[] = [];
  vi.stubGlobal(
    'fetch',
    vi.fn(async (url: string | URL | Request) => {
      const u = new URL(String(url), 'http://localhost');
      if (u.pathname === '/api/events') {
        queries.push(u.searchParams);
        if (u.searchParams.get('q')) return json({ items: [event(9)], nextCursor: null });
        return u.searchParams.get('cursor') === 'page-2' ? json({ items: [event(3)], nextCursor: null }) : json({ items: [event(1), event(2)], nextCursor: 'page-2' });
      }
      const id = u.pathname.split('/').pop()!;
      const n = Number(id.replace('ev-', ''));
      return json({
        eventId: id,
        ticketTypes: [{ ticketTypeId: `tt-${n}`, name: 'GA', priceCents: 1500, currency: 'JPY', capacity: 10, sold: n === 2 ? 10 : 4, remaining: n === 2 ? 0 : 6 }],
      });
    }),
  );
  return queries;
}

afterEach(() => vi.unstubAllGlobals());

describe('EventsPage (discover)', () => {
  it('shows cards with time in the event zone, price and live seats; loads more by cursor; searches', async () => {
    const queries = fakeEventsApi();
    renderApp(<EventsPage />);
    expect(await screen.findByRole('link', { name: 'Event number 1' })).toHaveAttribute('href', '/events/ev-1');
    // 10:00–12:00 UTC is 19:00–21:00 in Tokyo.
    expect(screen.getAllByText('Tue, Jul 14, 2099, 7:00 PM – 9:00 PM GMT+9')).toHaveLength(2);
    expect(screen.getAllByText('¥15')).toHaveLength(2);
    expect(await screen.findByText('Only 6 left')).toBeInTheDocument();
    expect(await screen.findByText('Sold out')).toBeInTheDocument();

    const user = userEvent.setup();
    await user.click(screen.getByRole('button', { name: 'Show more events' }));
    expect(await screen.findByRole('link', { name: 'Event number 3' })).toBeInTheDocument();
    expect(screen.queryByRole('button', { name: 'Show more events' })).toBeNull();
    expect(queries[1]!.get('cursor')).toBe('page-2');

    await user.type(screen.getByLabelText('Search events'), 'jazz');
    expect(await screen.findByRole('heading', { name: 'Results for “jazz”' })).toBeInTheDocument();
    await waitFor(() => expect(screen.getAllByTestId('event-card')).toHaveLength(1));
    expect(queries.at(-1)!.get('q')).toBe('jazz');
  });

  it('follows a search through pages that came back empty with a cursor, and offers to keep searching', async () => {
    // A stand-in for the events service's search budget: each request reads a slice and may match nothing.
    const cursors: (string | null)[] = [];
    vi.stubGlobal(
      'fetch',
      vi.fn(async (url: string | URL | Request) => {
        const u = new URL(String(url), 'http://localhost');
        if (u.pathname !== '/api/events') return json({ eventId: 'ev-4', ticketTypes: [] });
        const cursor = u.searchParams.get('cursor');
        cursors.push(cursor);
        const at = cursor === null ? 0 : Number(cursor.replace('slice-', ''));
        // Slices 0-6 hold nothing; slice 7 holds the match.
        if (at < 7) return json({ items: [], nextCursor: `slice-${at + 1}` });
        return json({ items: [event(4)], nextCursor: null });
      }),
    );
    renderApp(<EventsPage />, { path: '/?q=rare' });
    // The first load follows five empty pages, then says it is not done.
    expect(await screen.findByText('No matches yet')).toBeInTheDocument();
    expect(cursors).toEqual([null, 'slice-1', 'slice-2', 'slice-3', 'slice-4']);
    const user = userEvent.setup();
    await user.click(screen.getByRole('button', { name: 'Keep searching' }));
    expect(await screen.findByRole('link', { name: 'Event number 4' })).toBeInTheDocument();
    expect(cursors.slice(5)).toEqual(['slice-5', 'slice-6', 'slice-7']);
    expect(screen.queryByRole('button', { name: 'Show more events' })).toBeNull();
  });

  it('date presets are windows from now', () => {
    const now = new Date('2030-05-01T10:00:00.000Z');
    expect(presetRange('any', now)).toEqual({});
    expect(presetRange('week', now)).toEqual({ from: '2030-05-01T10:00:00.000Z', to: '2030-05-08T10:00:00.000Z' });
  });
});
