import { screen } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { testEvent } from '@/test/fixtures';
import { attendeeSession, json, renderApp } from '@/test/render';
import { RsvpCard } from './rsvp-card';

const END = Date.now() + 60_000;

const event = testEvent({ startsAt: new Date(END - 3 * 3_600_000).toISOString(), endsAt: new Date(END).toISOString() });

afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllGlobals();
});

describe('RsvpCard', () => {
  it.each([
    ['one millisecond before the end', END - 1, true],
    ['at the end instant', END, false],
  ])('%s, Register is offered: %s (the events service closes registration at that instant)', async (_, now, offered) => {
    // The only stand-in for the server: the user has no registrations yet.
    vi.stubGlobal(
      'fetch',
      vi.fn(async () => json({ items: [] })),
    );
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(now);
    renderApp(<RsvpCard event={event} />, { session: attendeeSession, path: '/events/ev-1' });
    expect(await screen.findByText(/Let the organizer know you’re coming/)).toBeInTheDocument();
    expect(screen.queryByRole('button', { name: 'Register' }) !== null).toBe(offered);
  });

  it('asks for this event’s registration alone and shows it, whatever else the user registered for', async () => {
    const asked: string[] = [];
    vi.stubGlobal(
      'fetch',
      vi.fn(async (url: string | URL | Request) => {
        const u = new URL(String(url), 'http://localhost');
        asked.push(`${u.pathname}?${u.searchParams}`);
        return json({
          items: [
            { id: 'reg-1', eventId: event.id, userId: 'u1', userName: 'Ada', userEmail: 'a@x', eventTitle: event.title, eventStartsAt: event.startsAt, createdAt: event.createdAt },
          ],
          nextCursor: null,
        });
      }),
    );
    renderApp(<RsvpCard event={event} />, { session: attendeeSession, path: '/events/ev-1' });
    expect(await screen.findByText('You’re registered for this event.')).toBeInTheDocument();
    expect(asked).toEqual([`/api/registrations?eventId=${event.id}`]);
  });

  it('next to paid tickets, says plainly that an RSVP is not a ticket, before and after RSVPing', async () => {
    const paidEvent = testEvent({ ticketTypes: [{ id: 'tt-1', name: 'General', priceCents: 2500, currency: 'EUR', capacity: 50 }] });
    vi.stubGlobal(
      'fetch',
      vi.fn(async () => json({ items: [] })),
    );
    const first = renderApp(<RsvpCard event={paidEvent} />, { session: attendeeSession, path: '/events/ev-1' });
    expect(await screen.findByText(/An RSVP is not a ticket and does not get you in/)).toBeInTheDocument();
    expect(screen.getByRole('button', { name: 'RSVP as interested' })).toBeEnabled();
    first.unmount();

    vi.stubGlobal(
      'fetch',
      vi.fn(async () =>
        json({
          items: [
            {
              id: 'reg-1',
              eventId: paidEvent.id,
              userId: 'u1',
              userName: 'Ada',
              userEmail: 'a@x',
              eventTitle: paidEvent.title,
              eventStartsAt: paidEvent.startsAt,
              createdAt: paidEvent.createdAt,
            },
          ],
          nextCursor: null,
        }),
      ),
    );
    renderApp(<RsvpCard event={paidEvent} />, { session: attendeeSession, path: '/events/ev-1' });
    expect(await screen.findByText('You’ve RSVP’d as interested. This is not a ticket: to attend, buy one.')).toBeInTheDocument();
    expect(screen.getByRole('button', { name: 'Withdraw RSVP' })).toBeInTheDocument();
  });

  it('signed out, on a free event, invites to register for free', async () => {
    renderApp(<RsvpCard event={event} />, { session: null, path: '/events/ev-1' });
    expect(await screen.findByText('Entry is free. Let the organizer know you’re coming.')).toBeInTheDocument();
    expect(screen.getByRole('link', { name: 'Sign in to register' })).toHaveAttribute('href', '/signin?next=%2Fevents%2Fev-1');
  });
});
