import { readFileSync } from 'node:fs';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it, onTestFailed } from 'vitest';
import { createEvent, startTestSystem, waitOnSale } from '../system/helpers.js';
import { expectAccessible, hasChromium, launchChromium, requireChromiumUnderCi, signUp, tokenOf } from './browser.js';

requireChromiumUnderCi();

/** Where the people reading are: far from the event, so a time shown in the reader's zone cannot pass for the event's. */
const READER_ZONE = 'Asia/Tokyo';
const EVENT_ZONE = 'America/Los_Angeles';
const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };

/**
 * One event, seen from every page that shows when it happens: the discover card, its page, My tickets, My
 * registrations, and the organizer's My events and dashboard, all in a browser in Tokyo while the event is in Los
 * Angeles, from 9:00 PM on Dec 15 to 2:00 AM on Dec 16 there (05:00–10:00 UTC on Dec 16, 2:00–7:00 PM in Tokyo).
 * Every page must say the same thing, in the event's zone, and name it; then the event is called off and the
 * attendee's registration says so.
 */
describe.skipIf(!hasChromium)('browser: event times agree on every page, in the event’s zone', { timeout: 60_000 }, () => {
  let t: Awaited<ReturnType<typeof startTestSystem>>;
  let browser: Browser;
  const people: { context: BrowserContext; page: Page; errors: string[] }[] = [];
  let organizer: Page;
  let attendee: Page;
  let event: { id: string; title: string; ticketTypes: { id: string }[] };
  // December: Pacific Standard Time throughout. Next year, so the event is ahead whatever today is.
  const year = new Date().getUTCFullYear() + 1;
  const startsAt = `${year}-12-16T05:00:00.000Z`;
  const endsAt = `${year}-12-16T10:00:00.000Z`;
  // The year is said only when it is not this year's, which next year's is (unless the test runs over New Year).
  const inEventZone = new RegExp(`^\\w{3}, Dec 15(, ${year})?, 9:00 PM – \\w{3}, Dec 16, 2:00 AM PST$`);

  /** A person's browser in Tokyo, whose page errors fail the test. */
  async function personInTokyo(): Promise<Page> {
    const context = await browser.newContext({ baseURL: t.system.urls.gateway, viewport: DESKTOP, timezoneId: READER_ZONE, acceptDownloads: true });
    context.setDefaultTimeout(15_000);
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (err) => errors.push(err.message));
    people.push({ context, page, errors });
    return page;
  }

  /** The text of the one event-time element in `scope`, once it is there. */
  async function timeIn(scope: Locator | Page): Promise<string> {
    const time = scope.getByTestId('event-time');
    await time.first().waitFor();
    expect(await time.count()).toBe(1);
    return (await time.textContent())!.trim();
  }

  beforeAll(async () => {
    t = await startTestSystem();
    browser = await launchChromium();
    organizer = await personInTokyo();
    attendee = await personInTokyo();
  }, 90_000);

  beforeEach(() => {
    onTestFailed(async () => {
      for (const [i, p] of people.entries()) {
        await p.page.screenshot({ path: `test-results/browser-failure-event-times-${i}.png`, fullPage: true }).catch(() => {});
        if (p.errors.length) console.error(`page ${i} errors:`, p.errors);
      }
    });
  });

  afterAll(async () => {
    await browser?.close();
    await t?.stop();
  });

  it('an organizer and an attendee in Tokyo; an event in Los Angeles that ends after midnight there, with a ticket and an RSVP', async () => {
    expect(await organizer.evaluate('Intl.DateTimeFormat().resolvedOptions().timeZone')).toBe(READER_ZONE);
    await signUp(organizer, { name: 'Olga Organizer', email: 'olga-times@example.com', role: 'organizer' });
    await signUp(attendee, { name: 'Aki Attendee', email: 'aki-times@example.com', role: 'attendee' });
    // Made and bought through the API: what is under test here is how the pages show it.
    event = await createEvent(t.api, await tokenOf(organizer), 50, { title: 'Midnight Jazz Across Zones', timezone: EVENT_ZONE, startsAt, endsAt });
    await waitOnSale(t.api, event.id);
    const token = await tokenOf(attendee);
    expect((await t.api.post('/orders', { eventId: event.id, ticketTypeId: event.ticketTypes[0]!.id, quantity: 1 }, token, { 'idempotency-key': 'times-1' })).status).toBe(201);
    expect((await t.api.post('/register', { eventId: event.id }, token)).status).toBe(201);
  });

  it('shows the same time, in the event’s zone and naming it, on every page, at desktop and phone sizes', async () => {
    const seen: Record<string, string> = {};
    for (const [size, viewport] of Object.entries({ desktop: DESKTOP, phone: PHONE })) {
      await attendee.setViewportSize(viewport);
      await organizer.setViewportSize(viewport);

      await attendee.goto('/');
      seen[`discover card (${size})`] = await timeIn(attendee.getByTestId('event-card').filter({ hasText: event.title }));
      await attendee.goto(`/events/${event.id}`);
      seen[`event page (${size})`] = await timeIn(attendee);
      await attendee.goto('/tickets');
      seen[`My tickets (${size})`] = await timeIn(attendee.getByTestId('ticket-group').filter({ hasText: event.title }));
      await attendee.goto('/registrations');
      seen[`My registrations (${size})`] = await timeIn(attendee.getByTestId('registration').filter({ hasText: event.title }));
      await organizer.goto('/organizer');
      seen[`organizer's My events (${size})`] = await timeIn(organizer.getByTestId('my-event').filter({ hasText: event.title }));
      await organizer.goto(`/organizer/events/${event.id}`);
      seen[`organizer's dashboard (${size})`] = await timeIn(organizer);
    }
    const expected = Object.values(seen)[0]!;
    expect(expected).toMatch(inEventZone);
    expect(seen).toEqual(Object.fromEntries(Object.keys(seen).map((page) => [page, expected])));
    await attendee.setViewportSize(DESKTOP);
    await organizer.setViewportSize(DESKTOP);
  });

  it('the calendar file keeps the event’s own zone and wall-clock times', async () => {
    await attendee.goto(`/events/${event.id}`);
    const [download] = await Promise.all([attendee.waitForEvent('download'), attendee.getByRole('button', { name: 'Add to calendar' }).click()]);
    const ics = readFileSync((await download.path())!, 'utf8');
    expect(ics).toContain(`DTSTART;TZID=${EVENT_ZONE}:${year}1215T210000\r\n`);
    expect(ics).toContain(`DTEND;TZID=${EVENT_ZONE}:${year}1216T020000\r\n`);
    expect(ics).toContain(`TZID:${EVENT_ZONE}\r\n`);
    expect(ics).toContain('TZOFFSETTO:-0800\r\nTZNAME:PST\r\n');
  });

  it('a registration for a cancelled event says “Event cancelled”, not “Registered”', async () => {
    await attendee.goto('/registrations');
    const row = attendee.getByTestId('registration').filter({ hasText: event.title });
    await row.getByText('Registered', { exact: true }).waitFor();

    expect((await t.api.post(`/events/${event.id}/cancel`, {}, await tokenOf(organizer))).status).toBe(200);
    // Read from the event as it is now: the page, opened again, says so at once; the event's time stays as it was.
    await attendee.goto('/registrations');
    await row.getByText('Event cancelled', { exact: true }).waitFor();
    expect(await row.getByText('Registered', { exact: true }).count()).toBe(0);
    expect(await timeIn(row)).toMatch(inEventZone);
    await expectAccessible(attendee, 'My registrations with a cancelled event');
    await attendee.setViewportSize(PHONE);
    await row.getByText('Event cancelled', { exact: true }).waitFor();
    await expectAccessible(attendee, 'My registrations with a cancelled event, on a phone');
    for (const p of people) expect(p.errors).toEqual([]);
  });
});
