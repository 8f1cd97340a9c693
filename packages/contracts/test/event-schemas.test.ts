import { describe, expect, it } from 'vitest';
import {
  BannerSize,
  CreateEventBody,
  Event,
  EventListQuery,
  EventPage,
  EventStatus,
  RegisterBody,
  Registration,
  RegistrationList,
  RegistrationListQuery,
  EventRegistrationListQuery,
  TicketType,
  TicketTypeInput,
  TicketTypePatch,
  UpdateEventBody,
} from '@dems/contracts';
import { refusals, refusedPaths } from './issues.js';

const ticket = { name: 'General', priceCents: 2500, capacity: 100 };
const valid = {
  title: 'Jazz Night',
  venue: 'Blue Room',
  timezone: 'Europe/Lisbon',
  startsAt: '2030-01-01T19:00:00Z',
  endsAt: '2030-01-01T22:00:00Z',
  ticketTypes: [ticket],
};

describe('TicketTypeInput', () => {
  it('defaults the currency to USD and trims the name', () => {
    expect(TicketTypeInput.parse({ ...ticket, name: '  VIP  ' })).toEqual({ ...ticket, name: 'VIP', currency: 'USD' });
  });

  it.each(['USD', 'EUR', 'JPY'])('accepts the currency %s', (currency) => {
    expect(TicketTypeInput.parse({ ...ticket, currency }).currency).toBe(currency);
  });

  it.each(['USDX', 'XUSD', 'usd', 'US', 'U$D', ' USD', ''])('refuses the currency %j', (currency) => {
    expect(refusals(TicketTypeInput, { ...ticket, currency })).toEqual(['currency: must be a three-letter ISO 4217 code such as USD']);
  });

  it.each([
    ['name', 'x'],
    ['name', 'x'.repeat(80)],
    ['name', ` ${'x'.repeat(80)} `],
    ['priceCents', 0],
    ['priceCents', 10_000_000],
    ['capacity', 1],
    ['capacity', 1_000_000],
  ])('accepts %s = %j', (field, value) => {
    expect(TicketTypeInput.safeParse({ ...ticket, [field]: value }).success).toBe(true);
  });

  it.each([
    ['name', ''],
    ['name', '   '],
    ['name', '\t\n'],
    ['name', 'x'.repeat(81)],
    ['priceCents', -1],
    ['priceCents', 10_000_001],
    ['priceCents', 12.5],
    ['priceCents', '2500'],
    ['capacity', 0],
    ['capacity', 1_000_001],
    ['capacity', 1.5],
  ])('refuses %s = %j, naming the field', (field, value) => {
    expect(refusedPaths(TicketTypeInput, { ...ticket, [field]: value })).toEqual([field]);
  });

  it('refuses unknown fields', () => {
    expect(refusedPaths(TicketTypeInput, { ...ticket, id: 'tt_1' })).toEqual(['']);
  });
});

describe('TicketTypePatch: a changed or a new ticket type', () => {
  it('takes an optional id and has no default currency', () => {
    expect(TicketTypePatch.parse(ticket)).toEqual(ticket);
    expect(TicketTypePatch.parse({ ...ticket, id: 'tt_1', currency: 'EUR' })).toEqual({ ...ticket, id: 'tt_1', currency: 'EUR' });
  });

  it('refuses a bad id or currency, and unknown fields', () => {
    expect(refusedPaths(TicketTypePatch, { ...ticket, id: 'a b' })).toEqual(['id']);
    expect(refusedPaths(TicketTypePatch, { ...ticket, currency: 'USDX' })).toEqual(['currency']);
    expect(refusedPaths(TicketTypePatch, { ...ticket, sold: 3 })).toEqual(['']);
    expect(refusedPaths(TicketTypePatch, { ...ticket, name: ' ' })).toEqual(['name']);
  });
});

describe('CreateEventBody', () => {
  it('fills defaults, trims, and hands on times in UTC', () => {
    expect(CreateEventBody.parse({ ...valid, title: '  Jazz Night ', venue: ' Blue Room ', startsAt: '2030-01-01T20:00:00+01:00' })).toEqual({
      ...valid,
      description: '',
      startsAt: '2030-01-01T19:00:00.000Z',
      endsAt: '2030-01-01T22:00:00.000Z',
      ticketTypes: [{ ...ticket, currency: 'USD' }],
    });
  });

  it('keeps a description and a registration limit, or no limit (null)', () => {
    expect(CreateEventBody.parse({ ...valid, description: 'Hot', registrationLimit: 5 })).toMatchObject({
      description: 'Hot',
      registrationLimit: 5,
    });
    expect(CreateEventBody.parse({ ...valid, registrationLimit: null }).registrationLimit).toBeNull();
    expect(CreateEventBody.parse(valid)).not.toHaveProperty('registrationLimit');
  });

  it.each([
    ['title', 'x'],
    ['title', 'x'.repeat(200)],
    ['venue', 'x'.repeat(200)],
    ['description', ''],
    ['description', 'x'.repeat(5000)],
    ['timezone', 'America/Argentina/Buenos_Aires'],
    ['registrationLimit', 1],
    ['registrationLimit', 1_000_000],
  ])('accepts %s = %j', (field, value) => {
    expect(CreateEventBody.safeParse({ ...valid, [field]: value }).success).toBe(true);
  });

  it.each([
    ['title', ''],
    ['title', '   '],
    ['title', 'x'.repeat(201)],
    ['title', undefined],
    ['venue', ' \t '],
    ['venue', 'x'.repeat(201)],
    ['venue', undefined],
    ['description', 'x'.repeat(5001)],
    ['timezone', 'Mars/Olympus'],
    ['timezone', `Europe/${'x'.repeat(58)}`],
    ['timezone', undefined],
    ['startsAt', '2030-01-01'],
    ['startsAt', '1969-12-31T23:00:00Z'],
    ['endsAt', 'soon'],
    ['registrationLimit', 0],
    ['registrationLimit', 1_000_001],
    ['registrationLimit', 2.5],
    ['ticketTypes', undefined],
  ])('refuses %s = %j, naming the field', (field, value) => {
    expect(refusedPaths(CreateEventBody, { ...valid, [field]: value })).toEqual([field]);
  });

  it('refuses a time zone of more than 64 characters as too long, not only as unknown', () => {
    const issues = CreateEventBody.safeParse({ ...valid, timezone: 'x'.repeat(65) }).error?.issues ?? [];
    expect(issues.map((i) => [i.path.join('.'), i.code])).toContainEqual(['timezone', 'too_big']);
    expect(CreateEventBody.safeParse({ ...valid, timezone: 'x'.repeat(64) }).error?.issues.map((i) => i.code)).toEqual(['custom']);
    expect(refusals(CreateEventBody, { ...valid, timezone: 'Mars/Olympus' })).toEqual(['timezone: must be an IANA time zone such as Europe/Berlin']);
  });

  it('takes 1 to 20 ticket types', () => {
    expect(refusals(CreateEventBody, { ...valid, ticketTypes: [] })).toEqual(['ticketTypes: add at least one ticket type']);
    expect(CreateEventBody.safeParse({ ...valid, ticketTypes: Array(20).fill(ticket) }).success).toBe(true);
    expect(refusedPaths(CreateEventBody, { ...valid, ticketTypes: Array(21).fill(ticket) })).toEqual(['ticketTypes']);
    expect(refusedPaths(CreateEventBody, { ...valid, ticketTypes: [ticket, { ...ticket, currency: 'USDX' }] })).toEqual(['ticketTypes.1.currency']);
  });

  it.each([
    ['2030-01-01T19:00:00Z', '2030-01-01T19:00:00Z'],
    ['2030-01-01T19:00:00Z', '2030-01-01T18:59:59Z'],
    ['2030-01-01T19:00:00Z', '2030-01-01T20:00:00+01:00'],
  ])('refuses an event from %s to %s: endsAt is named', (startsAt, endsAt) => {
    expect(refusals(CreateEventBody, { ...valid, startsAt, endsAt })).toEqual(['endsAt: must be after startsAt']);
  });

  it('accepts an event ending a millisecond after it starts, offsets judged in UTC', () => {
    expect(CreateEventBody.safeParse({ ...valid, startsAt: '2030-01-01T19:00:00Z', endsAt: '2030-01-01T19:00:00.001Z' }).success).toBe(true);
    expect(CreateEventBody.safeParse({ ...valid, startsAt: '2030-01-01T20:00:00+02:00', endsAt: '2030-01-01T19:00:00Z' }).success).toBe(true);
  });

  it('refuses unknown fields', () => {
    expect(refusedPaths(CreateEventBody, { ...valid, status: 'cancelled' })).toEqual(['']);
  });
});

describe('UpdateEventBody: a PATCH', () => {
  it.each([
    [{ title: ' New ' }, { title: 'New' }],
    [{ description: '' }, { description: '' }],
    [{ registrationLimit: null }, { registrationLimit: null }],
    [{ startsAt: '2030-01-01T20:00:00+01:00' }, { startsAt: '2030-01-01T19:00:00.000Z' }],
    [{ endsAt: '2030-01-01T19:00:00Z' }, { endsAt: '2030-01-01T19:00:00.000Z' }],
    [{ ticketTypes: [{ ...ticket, id: 'tt_1' }] }, { ticketTypes: [{ ...ticket, id: 'tt_1' }] }],
  ])('accepts %j as %j, with no defaults added', (patch, parsed) => {
    expect(UpdateEventBody.parse(patch)).toEqual(parsed);
  });

  it('needs at least one field', () => {
    expect(refusals(UpdateEventBody, {})).toEqual([': send at least one field to change']);
  });

  it.each([
    ['title', '  '],
    ['title', 'x'.repeat(201)],
    ['venue', ''],
    ['venue', 'x'.repeat(201)],
    ['description', 'x'.repeat(5001)],
    ['timezone', 'Mars/Olympus'],
    ['startsAt', '1969-12-31T23:59:59Z'],
    ['endsAt', 'later'],
    ['registrationLimit', 0],
    ['registrationLimit', 1_000_001],
    ['ticketTypes', []],
    ['ticketTypes', Array(21).fill(ticket)],
  ])('refuses %s = %j, naming the field', (field, value) => {
    expect(refusedPaths(UpdateEventBody, { [field]: value })).toEqual([field]);
  });

  it('accepts 20 ticket types', () => {
    expect(UpdateEventBody.safeParse({ ticketTypes: Array(20).fill(ticket) }).success).toBe(true);
  });

  it('checks the order of the times only when both are sent', () => {
    expect(refusals(UpdateEventBody, { startsAt: '2030-01-01T19:00:00Z', endsAt: '2030-01-01T19:00:00Z' })).toEqual(['endsAt: must be after startsAt']);
    expect(UpdateEventBody.safeParse({ startsAt: '2030-01-01T19:00:00Z', endsAt: '2030-01-01T19:00:01Z' }).success).toBe(true);
  });

  it('refuses unknown fields', () => {
    expect(UpdateEventBody.safeParse({ title: 'x', organizerId: 'usr_2' }).success).toBe(false);
  });
});

describe('EventListQuery', () => {
  it('defaults the limit to 20', () => {
    expect(EventListQuery.parse({})).toEqual({ limit: 20 });
  });

  it('trims the search text, hands on times in UTC, and reads mine as a boolean', () => {
    expect(EventListQuery.parse({ q: '  jazz ', from: '2030-01-01T01:00:00+01:00', to: '2030-02-01T00:00:00Z', mine: 'true', limit: '5', cursor: 'abc' })).toEqual({
      q: 'jazz',
      from: '2030-01-01T00:00:00.000Z',
      to: '2030-02-01T00:00:00.000Z',
      mine: true,
      limit: 5,
      cursor: 'abc',
    });
    expect(EventListQuery.parse({ mine: 'false' }).mine).toBe(false);
  });

  it('counts the search text after trimming: 200 characters plus spaces is fine, 201 is not', () => {
    expect(EventListQuery.parse({ q: ` ${'x'.repeat(200)} ` }).q).toHaveLength(200);
    expect(refusedPaths(EventListQuery, { q: 'x'.repeat(201) })).toEqual(['q']);
    expect(EventListQuery.parse({ q: '   ' }).q).toBe('');
  });

  it.each([
    ['mine', 'yes'],
    ['mine', true],
    ['from', '2030-01-01'],
    ['to', 'tomorrow'],
    ['limit', '0'],
    ['limit', '101'],
    ['cursor', 'c'.repeat(513)],
  ])('refuses %s = %j', (field, value) => {
    expect(refusedPaths(EventListQuery, { [field]: value })).toEqual([field]);
  });

  it('accepts limit 1 and 100 and a 512-character cursor', () => {
    expect(EventListQuery.parse({ limit: '1' }).limit).toBe(1);
    expect(EventListQuery.parse({ limit: '100' }).limit).toBe(100);
    expect(EventListQuery.parse({ cursor: 'c'.repeat(512) }).cursor).toHaveLength(512);
  });

  it('refuses unknown parameters', () => {
    expect(EventListQuery.safeParse({ page: '2' }).success).toBe(false);
  });
});

const ticketType = { id: 'tt_1', name: 'General', priceCents: 2500, currency: 'USD', capacity: 100 };
const event = {
  id: 'evt_1',
  organizerId: 'usr_1',
  title: 'Jazz Night',
  description: '',
  venue: 'Blue Room',
  timezone: 'Europe/Lisbon',
  startsAt: '2030-01-01T19:00:00.000Z',
  endsAt: '2030-01-01T22:00:00.000Z',
  status: 'published',
  registrationLimit: null,
  registrationCount: 0,
  ticketTypes: [ticketType],
  bannerUrl: null,
  bannerSizes: [],
  createdAt: '2029-01-01T00:00:00.000Z',
  updatedAt: '2029-01-01T00:00:00.000Z',
};

describe('Event (the answer)', () => {
  it('accepts an event as the service answers it', () => {
    expect(Event.parse(event)).toEqual(event);
    const sizes = [
      { width: 480, height: 240, url: '/banners/evt_1/a-480.webp' },
      { width: 960, height: 480, url: '/banners/evt_1/a-960.webp' },
    ];
    const withBanner = { ...event, bannerUrl: sizes[1]!.url, bannerSizes: sizes };
    expect(Event.parse(withBanner)).toEqual(withBanner);
    expect(Event.parse({ ...event, status: 'cancelled', registrationLimit: 10 })).toMatchObject({ status: 'cancelled' });
    expect(EventPage.parse({ items: [event], nextCursor: null })).toEqual({ items: [event], nextCursor: null });
    expect(EventPage.parse({ items: [], nextCursor: 'abc' }).nextCursor).toBe('abc');
  });

  it('knows exactly two statuses', () => {
    expect(EventStatus.options).toEqual(['published', 'cancelled']);
  });

  it.each([
    ['id', 'a b'],
    ['organizerId', ''],
    ['title', 1],
    ['description', null],
    ['venue', 1],
    ['timezone', null],
    ['startsAt', '2030-01-01T19:00:00+01:00'],
    ['endsAt', '2030-01-01'],
    ['status', 'draft'],
    ['registrationLimit', 1.5],
    ['registrationCount', undefined],
    ['registrationCount', 1.5],
    ['bannerUrl', undefined],
    ['bannerUrl', 1],
    ['bannerSizes', null],
    ['createdAt', '1969-01-01T00:00:00.000Z'],
    ['updatedAt', undefined],
  ])('refuses %s = %j', (field, value) => {
    expect(refusedPaths(Event, { ...event, [field]: value })).toEqual([field]);
  });

  it.each([
    ['width', 1.5],
    ['height', undefined],
    ['url', null],
  ])('refuses a banner size with %s = %j', (field, value) => {
    expect(refusedPaths(BannerSize, { width: 480, height: 240, url: '/banners/x.webp', [field]: value })).toEqual([field]);
  });

  it.each([
    ['id', 'a b'],
    ['name', 1],
    ['priceCents', 1.5],
    ['currency', undefined],
    ['capacity', 2.5],
  ])('refuses a ticket type with %s = %j', (field, value) => {
    expect(refusedPaths(TicketType, { ...ticketType, [field]: value })).toEqual([field]);
    expect(refusedPaths(Event, { ...event, ticketTypes: [{ ...ticketType, [field]: value }] })).toEqual([`ticketTypes.0.${field}`]);
  });

  it('refuses a page without nextCursor or with a bad item', () => {
    expect(refusedPaths(EventPage, { items: [] })).toEqual(['nextCursor']);
    expect(refusedPaths(EventPage, { items: [{ ...event, status: 'x' }], nextCursor: null })).toEqual(['items.0.status']);
  });
});

describe('registrations', () => {
  const registration = {
    id: 'reg_1',
    eventId: 'evt_1',
    userId: 'usr_1',
    userName: 'Ana',
    userEmail: 'ana@example.com',
    eventTitle: 'Jazz Night',
    eventStartsAt: '2030-01-01T19:00:00.000Z',
    eventEndsAt: '2030-01-01T22:00:00.000Z',
    eventTimezone: 'Europe/Berlin',
    eventStatus: 'cancelled',
    createdAt: '2029-01-01T00:00:00.000Z',
  };

  it('RegisterBody takes exactly an event id', () => {
    expect(RegisterBody.parse({ eventId: 'evt_1' })).toEqual({ eventId: 'evt_1' });
    expect(refusedPaths(RegisterBody, { eventId: 'a/b' })).toEqual(['eventId']);
    expect(refusedPaths(RegisterBody, { eventId: 'evt_1', userId: 'usr_2' })).toEqual(['']);
  });

  it('Registration and RegistrationList accept what the service answers', () => {
    expect(Registration.parse(registration)).toEqual(registration);
    expect(RegistrationList.parse({ items: [registration], nextCursor: null })).toEqual({ items: [registration], nextCursor: null });
    expect(RegistrationList.parse({ items: [], nextCursor: 'abc' })).toEqual({ items: [], nextCursor: 'abc' });
    expect(refusedPaths(RegistrationList, { items: [registration] })).toEqual(['nextCursor']);
  });

  it('RegistrationListQuery takes a cursor, a limit of 1 to 100 (50 by default) and an optional event id; the attendee list no event id', () => {
    expect(RegistrationListQuery.parse({})).toEqual({ limit: 50 });
    expect(RegistrationListQuery.parse({ limit: '100', cursor: 'c', eventId: 'evt_1' })).toEqual({ limit: 100, cursor: 'c', eventId: 'evt_1' });
    expect(refusedPaths(RegistrationListQuery, { limit: '0' })).toEqual(['limit']);
    expect(refusedPaths(RegistrationListQuery, { limit: '101' })).toEqual(['limit']);
    expect(refusedPaths(RegistrationListQuery, { eventId: 'a b' })).toEqual(['eventId']);
    expect(EventRegistrationListQuery.parse({ cursor: 'c' })).toEqual({ limit: 50, cursor: 'c' });
    expect(refusedPaths(EventRegistrationListQuery, { eventId: 'evt_1' })).toEqual(['']);
  });

  it.each([
    ['id', 'a b'],
    ['eventId', ''],
    ['userId', undefined],
    ['userName', 1],
    ['userEmail', null],
    ['eventTitle', undefined],
    ['eventStartsAt', 'soon'],
    ['eventEndsAt', undefined],
    ['eventTimezone', undefined],
    ['eventStatus', 'postponed'],
    ['createdAt', '2030-01-01T19:00:00+01:00'],
  ])('Registration refuses %s = %j', (field, value) => {
    expect(refusedPaths(Registration, { ...registration, [field]: value })).toEqual([field]);
    expect(refusedPaths(RegistrationList, { items: [{ ...registration, [field]: value }], nextCursor: null })).toEqual([`items.0.${field}`]);
  });
});
