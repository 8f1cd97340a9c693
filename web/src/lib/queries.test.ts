import { QueryClient } from '@tanstack/react-query';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { json } from '@/test/render';
import { ApiError } from './api-client';
import { availabilityQuery, eventQuery } from './queries';
import { queryKeys } from './query-keys';

afterEach(() => vi.unstubAllGlobals());

const failure = (code: string, status: number) => new ApiError(code, 'x', null, status);

/** The retry rule as TanStack calls it: (failures so far, error) → try again? */
const retries = (retry: unknown) => retry as (count: number, err: unknown) => boolean;

describe('eventQuery', () => {
  it('reads the event under its shared key, its id escaped into the path', async () => {
    const fetch = vi.fn(async () => json({ id: 'a/b', title: 'Jazz' }));
    vi.stubGlobal('fetch', fetch);
    const options = eventQuery('a/b');
    expect(options.queryKey).toEqual(queryKeys.event('a/b'));
    await expect(new QueryClient().fetchQuery(options)).resolves.toEqual({ id: 'a/b', title: 'Jazz' });
    expect(String((fetch.mock.calls[0] as unknown[])[0])).toBe('/api/events/a%2Fb');
  });

  it('takes a 404 as the answer and retries other failures twice', () => {
    const retry = retries(eventQuery('e').retry);
    expect(retry(0, failure('EVENT_NOT_FOUND', 404))).toBe(false);
    expect(retry(1, failure('INTERNAL', 500))).toBe(true);
    expect(retry(2, failure('INTERNAL', 500))).toBe(false);
  });
});

describe('availabilityQuery', () => {
  it('reads the seats under their shared key', async () => {
    const fetch = vi.fn(async () => json({ eventId: 'e', ticketTypes: [] }));
    vi.stubGlobal('fetch', fetch);
    const options = availabilityQuery('e');
    expect(options.queryKey).toEqual(queryKeys.availability('e'));
    await expect(new QueryClient().fetchQuery(options)).resolves.toEqual({ eventId: 'e', ticketTypes: [] });
    expect(String((fetch.mock.calls[0] as unknown[])[0])).toBe('/api/availability/e');
  });

  it('waits longer for an event not on sale yet (ten tries, a second apart) than for other failures (two)', () => {
    const retry = retries(availabilityQuery('e').retry);
    expect(retry(9, failure('EVENT_NOT_FOUND', 404))).toBe(true);
    expect(retry(10, failure('EVENT_NOT_FOUND', 404))).toBe(false);
    expect(retry(1, failure('INTERNAL', 500))).toBe(true);
    expect(retry(2, failure('INTERNAL', 500))).toBe(false);
    expect(availabilityQuery('e').retryDelay).toBe(1000);
  });
});

describe('queryKeys', () => {
  it('puts each event, list and availability under the key a broad refresh invalidates', () => {
    const under = (root: readonly unknown[], key: readonly unknown[]) => expect(key.slice(0, root.length)).toEqual(root);
    under(queryKeys.allEvents(), queryKeys.event('e'));
    under(queryKeys.allEvents(), queryKeys.events({ q: 'jazz' }));
    under(queryKeys.allEvents(), queryKeys.myEvents());
    under(queryKeys.allAvailability(), queryKeys.availability('e'));
    under(queryKeys.allEventRegistrations(), queryKeys.eventRegistrations('e'));
    under(queryKeys.registrations(), queryKeys.registrationFor('e'));
    under(queryKeys.notifications(), queryKeys.unreadCount());
    under(queryKeys.notifications(), queryKeys.notificationList());
    expect(queryKeys.event('e')).not.toEqual(queryKeys.availability('e'));
  });
});
