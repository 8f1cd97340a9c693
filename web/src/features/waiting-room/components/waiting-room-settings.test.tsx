import { screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import type { WaitingRoom } from '@dems/contracts';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { testEvent } from '@/test/fixtures';
import { json, organizerSession, renderApp } from '@/test/render';
import { readDraft, WaitingRoomSettings } from './waiting-room-settings';

const event = testEvent({ timezone: 'Europe/Lisbon' });

const room = (over: Partial<WaitingRoom> = {}): WaitingRoom => ({
  eventId: 'ev-1',
  opensAt: '2099-07-01T17:00:00.000Z',
  admitPerMinute: 300,
  passMinutes: 8,
  joined: 1234,
  admittedThrough: 200,
  soldOut: false,
  now: new Date().toISOString(),
  ...over,
});

/** A fake fetch standing in for ticketing's /waiting-rooms/ev-1: GET answers what `current` holds, PUT and DELETE change it. */
function fakeRooms(initial: WaitingRoom | null) {
  let current = initial;
  const calls: { method: string; body: unknown }[] = [];
  vi.stubGlobal(
    'fetch',
    vi.fn(async (url: string | URL | Request, init?: RequestInit) => {
      const method = init?.method ?? 'GET';
      if (String(url) !== '/api/waiting-rooms/ev-1') return json({ code: 'NOT_FOUND', message: 'No.', requestId: 'r' }, 404);
      calls.push({ method, body: init?.body ? JSON.parse(String(init.body)) : undefined });
      if (method === 'PUT') {
        const body = JSON.parse(String(init!.body)) as { opensAt: string; admitPerMinute: number; passMinutes: number };
        current = room({ ...body, joined: 0, admittedThrough: 0 });
        return json(current);
      }
      if (method === 'DELETE') {
        current = null;
        return new Response(null, { status: 204 });
      }
      return current ? json(current) : json({ code: 'WAITING_ROOM_NOT_FOUND', message: 'The event has no waiting room.', requestId: 'r' }, 404);
    }),
  );
  return { calls: () => calls.filter((c) => c.method !== 'GET') };
}

afterEach(() => vi.unstubAllGlobals());

const renderSettings = () => renderApp(<WaitingRoomSettings event={event} />, { session: organizerSession, path: '/organizer/events/ev-1' });

describe('WaitingRoomSettings: the organizer queues a sale', () => {
  it('checks each field before sending, in plain words beside it', async () => {
    const server = fakeRooms(null);
    renderSettings();
    const user = userEvent.setup();
    const rate = await screen.findByLabelText('Admissions per minute');
    expect(rate).toHaveValue(600);
    expect(screen.getByText('≈ how many buyers per minute your sale can take.')).toBeInTheDocument();
    await user.clear(rate);
    await user.type(rate, '0');
    const pass = screen.getByLabelText('Pass minutes');
    await user.clear(pass);
    await user.type(pass, '61');
    await user.click(screen.getByRole('button', { name: 'Queue the sale' }));
    expect(screen.getByLabelText('Sale opens at')).toHaveAccessibleDescription('Choose when the sale opens.');
    expect(rate).toHaveAccessibleDescription('Enter a whole number of buyers per minute, from 1 to 100,000.');
    expect(pass).toHaveAccessibleDescription('Enter a whole number of minutes, from 1 to 60.');
    expect(rate).toHaveAttribute('aria-invalid', 'true');
    expect(server.calls()).toEqual([]);
  });

  it('queues the sale at a time read in the event’s zone, then shows the live figures', async () => {
    const server = fakeRooms(null);
    renderSettings();
    const user = userEvent.setup();
    await user.type(await screen.findByLabelText('Sale opens at'), '2099-07-01T18:00');
    const rate = screen.getByLabelText('Admissions per minute');
    await user.clear(rate);
    await user.type(rate, '250');
    await user.click(screen.getByRole('button', { name: 'Queue the sale' }));
    // 18:00 in Lisbon in July (WEST, UTC+1).
    expect(server.calls()).toEqual([{ method: 'PUT', body: { opensAt: '2099-07-01T17:00:00.000Z', admitPerMinute: 250, passMinutes: 10 } }]);
    expect(await screen.findByTestId('waiting-room-joined')).toHaveTextContent('0');
    expect(screen.getByTestId('toast')).toHaveTextContent('Sale queued');
    expect(screen.getByRole('button', { name: 'Save changes' })).toBeInTheDocument();
  });

  it('shows an existing room filled in, with joined and let-in figures; turning it off asks first', async () => {
    const server = fakeRooms(room());
    renderSettings();
    const user = userEvent.setup();
    expect(await screen.findByTestId('waiting-room-joined')).toHaveTextContent('1234');
    expect(screen.getByTestId('waiting-room-admitted')).toHaveTextContent('200');
    expect(screen.getByLabelText('Sale opens at')).toHaveValue('2099-07-01T18:00');
    expect(screen.getByLabelText('Admissions per minute')).toHaveValue(300);
    expect(screen.getByLabelText('Pass minutes')).toHaveValue(8);

    await user.click(screen.getByRole('button', { name: 'Turn off' }));
    const dialog = screen.getByRole('dialog', { name: 'Turn off the waiting room?' });
    await user.click(within(dialog).getByRole('button', { name: 'Keep it' }));
    expect(server.calls()).toEqual([]);

    await user.click(screen.getByRole('button', { name: 'Turn off' }));
    await user.click(within(screen.getByRole('dialog')).getByRole('button', { name: 'Turn off' }));
    expect(await screen.findByRole('button', { name: 'Queue the sale' })).toBeInTheDocument();
    expect(server.calls()).toEqual([{ method: 'DELETE', body: undefined }]);
    expect(screen.queryByTestId('waiting-room-joined')).toBeNull();
    expect(screen.queryByRole('dialog')).toBeNull();
  });
});

describe('readDraft', () => {
  it('accepts whole numbers within the limits and refuses anything else', () => {
    const ok = readDraft({ opensAt: '2099-01-10T09:30', admitPerMinute: '100000', passMinutes: '1' }, 'UTC');
    expect(ok).toEqual({ body: { opensAt: '2099-01-10T09:30:00.000Z', admitPerMinute: 100000, passMinutes: 1 } });
    expect(readDraft({ opensAt: '2099-01-10T09:30', admitPerMinute: '100001', passMinutes: '60' }, 'UTC')).toEqual({ errors: { admitPerMinute: expect.any(String) } });
    expect(readDraft({ opensAt: '2099-01-10T09:30', admitPerMinute: '2.5', passMinutes: '0' }, 'UTC')).toEqual({
      errors: { admitPerMinute: expect.any(String), passMinutes: expect.any(String) },
    });
  });
});
