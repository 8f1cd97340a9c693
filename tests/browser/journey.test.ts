import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import sharp from 'sharp';
import { afterAll, beforeAll, beforeEach, describe, expect, it, onTestFailed } from 'vitest';
import { createEvent, eventually, inDays, startTestSystem, waitOnSale } from '../system/helpers.js';
import { dismissToasts, expectAccessible, hasChromium, launchChromium, localInput, openContext, requireChromiumUnderCi, screenshots, signUp, tokenOf } from './browser.js';

requireChromiumUnderCi();

/**
 * The journey in a real browser against the real system (four processes, built web app served by the
 * gateway): an organizer and an attendee, each in their own browser context, signing up through the UI.
 */
// Each step drives two real pages against four processes; on a busy machine that takes more than the default 20 s.
describe.skipIf(!hasChromium)('browser: organizer and attendee, live, in Chromium', { timeout: 60_000 }, () => {
  let t: Awaited<ReturnType<typeof startTestSystem>>;
  let browser: Browser;
  let organizer: { context: BrowserContext; page: Page; errors: string[] };
  let attendee: { context: BrowserContext; page: Page; errors: string[] };
  // Every run starts a fresh system, so a fixed word is unique; it keeps the saved screenshots stable too.
  const word = 'Quokka';
  const title = `Harbour Lights Jazz ${word}`;
  let eventId = '';

  beforeAll(async () => {
    t = await startTestSystem();
    browser = await launchChromium();
    organizer = await openContext(browser, t.system.urls.gateway);
    attendee = await openContext(browser, t.system.urls.gateway);
  }, 90_000);

  // A failure leaves both pages' screenshots and any page errors behind, to see what the user saw.
  beforeEach(() => {
    onTestFailed(async () => {
      for (const [who, c] of [
        ['organizer', organizer],
        ['attendee', attendee],
      ] as const) {
        if (!c) continue;
        await c.page.screenshot({ path: `test-results/browser-failure-${who}.png`, fullPage: true }).catch(() => {});
        if (c.errors.length) console.error(`${who} page errors:`, c.errors);
      }
    });
  });

  afterAll(async () => {
    await browser?.close();
    await t?.stop();
  });

  it('the organizer signs up and creates an event with two ticket types', async () => {
    const { page } = organizer;
    await signUp(page, { name: 'Olivia Organizer', email: `olivia-${word}@example.com`, role: 'organizer' });
    await page.getByRole('link', { name: 'Create event' }).first().click();

    // Client-side validation (the contracts' zod schema) speaks beside the fields before anything is sent.
    await page.getByLabel('Name (type 1)').fill('');
    await page.getByRole('button', { name: 'Publish event' }).click();
    await expect.poll(() => page.getByText('Give your event a title.').isVisible()).toBe(true);
    await expect.poll(() => page.getByText('Name this ticket type.').isVisible()).toBe(true);

    await page.getByLabel('Title').fill(title);
    await page.getByLabel('Description').fill('An evening of harbour-side jazz with the Lisbon Quartet.\nDoors open at 19:00.');
    await page.getByLabel('Venue').fill('Cais do Sodré Warehouse, Lisbon');
    await page.getByLabel('Time zone').selectOption('Europe/Lisbon');
    await page.getByLabel('Starts').fill(localInput(9, 20));
    await page.getByLabel('Ends').fill(localInput(9, 23));
    await page.getByLabel('Name (type 1)').fill('General');
    await page.getByLabel('Price (type 1)').fill('25');
    await page.getByLabel('Currency (type 1)').fill('EUR');
    await page.getByLabel('Capacity (type 1)').fill('50');
    await page.getByRole('button', { name: '+ Add ticket type' }).click();
    await page.getByLabel('Name (type 2)').fill('VIP');
    await page.getByLabel('Price (type 2)').fill('80');
    await page.getByLabel('Currency (type 2)').fill('EUR');
    await page.getByLabel('Capacity (type 2)').fill('1');
    await expectAccessible(page, 'the create-event form');
    await screenshots(page, 'create-event');
    await page.getByRole('button', { name: 'Publish event' }).click();

    await page.waitForURL(/\/organizer\/events\/(?!new$)[\w-]+$/);
    eventId = page.url().split('/').pop()!;
    await page.getByRole('heading', { level: 1, name: title }).waitFor();

    // A few more events so the discover page looks like a real one (made through the API: not under test here).
    const other = await t.api.account('organizer', `seed-${word}`);
    await createEvent(t.api, other.token, 200, {
      title: 'Sunrise Yoga on the Beach',
      venue: 'Praia da Rainha, Cascais',
      ...inDays(3),
      ticketTypes: [{ name: 'Mat spot', priceCents: 0, currency: 'EUR', capacity: 40 }],
    });
    await createEvent(t.api, other.token, 120, {
      title: 'Indie Game Makers Meetup',
      venue: 'LX Factory, Lisbon',
      timezone: 'Europe/Lisbon',
      ...inDays(5),
      ticketTypes: [
        { name: 'Standard', priceCents: 1200, currency: 'EUR', capacity: 8 },
        { name: 'Supporter', priceCents: 3000, currency: 'EUR', capacity: 20 },
      ],
    });
    await createEvent(t.api, other.token, 300, { title: 'Night Market & Street Food', venue: 'Mercado da Ribeira', timezone: 'Europe/Lisbon', ...inDays(12) });
    expect(organizer.errors).toEqual([]);
  });

  it('the organizer uploads a banner; the event page and the discover card show it', async () => {
    const { page } = organizer;
    await page.getByRole('link', { name: 'Edit' }).click();
    await page.getByRole('heading', { level: 1, name: `Edit ${title}` }).waitFor();
    await page.getByTestId('banner-caption').getByText('No banner yet').waitFor();

    // A file that is not an image (HTML named .png) is caught before it is sent: the preview cannot draw it.
    await page.getByLabel('Banner image').setInputFiles({ name: 'poster.png', mimeType: 'image/png', buffer: Buffer.from('<!doctype html><p>not an image</p>') });
    await page.getByText('This file cannot be shown as an image').waitFor();
    expect(await page.getByRole('button', { name: 'Upload banner' }).isDisabled()).toBe(true);

    await page.getByLabel('Banner image').setInputFiles({ name: 'harbour-at-night.png', mimeType: 'image/png', buffer: await harbourPng() });
    await expect.poll(() => imageLoaded(page.getByTestId('banner-preview')), { timeout: 10_000 }).toBe(true);
    await page.getByRole('button', { name: 'Upload banner' }).click();
    await page.getByTestId('toast').filter({ hasText: 'Banner added' }).waitFor();
    await page.getByTestId('banner-caption').getByText('The current banner.').waitFor();
    await expect.poll(() => imageLoaded(page.getByTestId('event-banner')), { timeout: 10_000 }).toBe(true);
    await expectAccessible(page, 'the banner editor');
    await dismissToasts(page);
    await screenshots(page, 'banner-editor');

    // The API now names the banner's renditions; each is served re-encoded as WebP, cacheable for good.
    const event = (await t.api.get(`/events/${eventId}`)).body;
    expect(event.bannerUrl).toEqual(expect.any(String));
    expect(event.bannerSizes.length).toBeGreaterThan(0);
    const image = await page.request.get(event.bannerUrl);
    expect([image.status(), image.headers()['content-type']]).toEqual([200, 'image/webp']);
    expect(image.headers()['cache-control']).toContain('immutable');

    await page.goto(`/events/${eventId}`);
    await expect.poll(() => imageLoaded(page.getByTestId('event-banner')), { timeout: 10_000 }).toBe(true);
    await page.goto('/');
    const card = page.getByTestId('event-card').filter({ hasText: title });
    // Cards load their banner lazily: bring it into view, as a visitor scrolling would.
    await card.scrollIntoViewIfNeeded();
    await expect.poll(() => imageLoaded(card.getByTestId('event-banner')), { timeout: 10_000 }).toBe(true);
    expect(organizer.errors).toEqual([]);
    await page.goto(`/organizer/events/${eventId}`);
  });

  it('the attendee finds it by search and buys 2 tickets; the confirmation arrives live, without a reload', async () => {
    const { page } = attendee;
    await signUp(page, { name: 'Ada Attendee', email: `ada-${word}@example.com`, role: 'attendee' });
    await waitOnSale(t.api, eventId);
    await page.goto('/');
    await page.getByTestId('event-card').first().waitFor();
    await page.getByText('left').first().waitFor();
    await expectAccessible(page, 'the events list');
    await screenshots(page, 'discover');

    await page.getByLabel('Search events').fill(word);
    await page.getByRole('heading', { name: `Results for “${word}”` }).waitFor();
    await expect.poll(() => page.getByTestId('event-card').count()).toBe(1);
    await page.getByRole('link', { name: title }).click();

    await page.getByRole('heading', { level: 1, name: title }).waitFor();
    const general = page.getByTestId('ticket-type-General');
    await general.getByText('50 left').waitFor();
    await expectAccessible(page, 'the event page');

    // Times are shown in the event's own time zone (Lisbon: WET or WEST), whatever the browser's zone is.
    await expect
      .poll(() =>
        page
          .getByText(/GMT\+1|WEST|WET|GMT/)
          .first()
          .isVisible(),
      )
      .toBe(true);
    const navigations: string[] = [];
    page.on('framenavigated', (f) => f === page.mainFrame() && navigations.push(f.url()));

    await general.getByLabel('Quantity of General tickets').selectOption('2');
    await general.getByRole('button', { name: /Buy/ }).click();
    await general.getByText('You’re going! 2 tickets confirmed.').waitFor();
    const toast = page.getByTestId('toast').filter({ hasText: 'Order confirmed' });
    await toast.waitFor({ timeout: 5000 });
    expect(await toast.textContent()).toContain(`Your 2 tickets for ${title} are confirmed.`);
    await general.getByText('48 left').waitFor();
    await expect.poll(async () => page.getByTestId('unread-count').textContent()).toBe('1');
    expect(navigations, 'no reload happened').toEqual([]);
    await screenshots(page, 'event');

    await page.getByRole('link', { name: 'My tickets' }).first().click();
    const group = page.getByTestId('ticket-group').filter({ hasText: title });
    await expect.poll(() => group.getByTestId('ticket').count()).toBe(2);
    await expect.poll(() => group.getByTestId('ticket-qr').count()).toBe(2);
    const qrLoaded = await group.getByTestId('ticket-qr').evaluateAll((imgs) =>
      imgs.every((i) => {
        const img = i as unknown as { complete: boolean; naturalWidth: number };
        return img.complete && img.naturalWidth > 0;
      }),
    );
    expect(qrLoaded).toBe(true);
    expect(await group.getByTestId('ticket-status').allTextContents()).toEqual(['Valid', 'Valid']);
    await expectAccessible(page, 'my tickets');
    await screenshots(page, 'my-tickets');
    expect(attendee.errors).toEqual([]);
  });

  it("the organizer's dashboard shows the 2 sold", async () => {
    const { page } = organizer;
    const general = page.getByTestId('sales-General');
    // The dashboard polls availability; no reload needed.
    await general.getByText('2 sold').waitFor({ timeout: 12_000 });
    await page.getByTestId('stat-sold').getByText('2', { exact: true }).waitFor();
    await expect.poll(() => page.getByTestId('stat-revenue').textContent()).toContain('€50.00');
    await expectAccessible(page, 'the organizer dashboard');
    await screenshots(page, 'dashboard');
  });

  it('a sold-out ticket type cannot be bought, and the page says so', async () => {
    const { page } = attendee;
    await page.goto(`/events/${eventId}`);
    const vip = page.getByTestId('ticket-type-VIP');
    await vip.getByText('1 left').waitFor();

    // Someone else takes the last VIP seat while this page still shows "1 left". To make that race certain
    // rather than timing-dependent, the page's availability answers are held at the old value (a forced stale
    // view — the only fake here) until this attendee presses Buy; the purchase itself is real.
    let stale: string | null = await page.evaluate(async (id) => (await fetch(`/api/availability/${id}`)).text(), eventId);
    await page.route('**/api/availability/**', (route) => (stale ? route.fulfill({ status: 200, contentType: 'application/json', body: stale }) : route.continue()));
    await page.route('**/api/orders', (route) => {
      stale = null;
      return route.continue();
    });
    const rival = await t.api.account('attendee', `rival-${word}`);
    const taken = await t.api.post('/orders', { eventId, ticketTypeId: (await t.api.get(`/events/${eventId}`)).body.ticketTypes[1].id, quantity: 1 }, rival.token, {
      'idempotency-key': `rival-${word}`,
    });
    expect(taken.status).toBe(201);

    await vip.getByRole('button', { name: /Buy/ }).click();
    await vip
      .getByRole('alert')
      .filter({ hasText: /^Sorry — .*sold out\./ })
      .waitFor();
    await vip.getByText('Sold out', { exact: true }).waitFor();
    expect(await vip.getByRole('button', { name: /Buy/ }).count()).toBe(0);
    await page.unrouteAll();

    // A fresh visit shows it sold out from the start, with no way to buy.
    await page.reload();
    await vip.getByText('Sorry — VIP tickets are sold out.').waitFor();
    expect(await vip.getByRole('button', { name: /Buy/ }).count()).toBe(0);
  });

  it('a double-clicked Buy creates one order', async () => {
    const { page } = attendee;
    const token = await tokenOf(page);
    const before = (await t.api.get('/orders', token)).body.items.length as number;
    const general = page.getByTestId('ticket-type-General');
    await general.getByText('48 left').waitFor();
    await general.getByRole('button', { name: /Buy/ }).dblclick();
    await general.getByText('You’re going! 1 ticket confirmed.').waitFor();
    await general.getByText('47 left').waitFor();
    // Give a second request, had one been sent, time to land.
    await page.waitForTimeout(1000);
    const after = (await t.api.get('/orders', token)).body.items as { quantity: number }[];
    expect(after.length).toBe(before + 1);
    expect(after[0]!.quantity).toBe(1);
  });

  it('the organizer cancels; the attendee sees the cancellation live and the tickets cancelled', async () => {
    const { page: attendeePage } = attendee;
    await attendeePage.getByRole('link', { name: 'My tickets' }).first().click();
    const group = attendeePage.getByTestId('ticket-group').filter({ hasText: title });
    await expect.poll(() => group.getByTestId('ticket').count()).toBe(3);

    const { page } = organizer;
    await page.getByRole('button', { name: 'Cancel event' }).click();
    const dialog = page.getByRole('dialog', { name: 'Cancel this event?' });
    expect(await dialog.textContent()).toContain('will be refunded');
    await screenshots(page, 'cancel-dialog');
    await dialog.getByRole('button', { name: 'Cancel event' }).click();
    await page.getByText('This event is cancelled.').first().waitFor();

    const toast = attendeePage.getByTestId('toast').filter({ hasText: `${title} is cancelled` });
    await toast.waitFor({ timeout: 5000 });
    await expect.poll(() => group.getByTestId('ticket-status').allTextContents(), { timeout: 8000 }).toEqual(['Cancelled', 'Cancelled', 'Cancelled']);
    await group.getByText('This event was cancelled; its tickets have been refunded.').waitFor();
    // The toasts have made their point; the picture is of the tickets underneath.
    await dismissToasts(attendeePage);
    await screenshots(attendeePage, 'my-tickets-cancelled');

    await attendeePage.getByRole('link', { name: /^Notifications/ }).click();
    await attendeePage.getByRole('heading', { name: `Unread: ${title} is cancelled` }).waitFor();
    await expectAccessible(attendeePage, 'the notifications page');
    await screenshots(attendeePage, 'notifications');
    await attendeePage.getByRole('button', { name: 'Mark all as read' }).click();
    await attendeePage.getByText('You’re all caught up.').waitFor();
    expect(await attendeePage.getByTestId('unread-count').count()).toBe(0);

    const token = await tokenOf(attendeePage);
    const tickets = await eventually(async () => {
      const r = await t.api.get('/tickets', token);
      return r.body.items.every((x: { status: string }) => x.status === 'cancelled') ? r.body.items : undefined;
    });
    expect(tickets).toHaveLength(3);
    expect(attendee.errors).toEqual([]);
    expect(organizer.errors).toEqual([]);
  });

  it('a protected page sends you to sign in and back; the session survives a reload', async () => {
    const context = await browser.newContext({ baseURL: t.system.urls.gateway });
    const page = await context.newPage();
    await page.goto('/tickets');
    await page.waitForURL(/\/signin\?next=%2Ftickets/);
    await expectAccessible(page, 'the log-in page');
    await page.getByLabel('Email').fill(`ada-${word}@example.com`);
    await page.getByLabel('Password').fill('correct horse battery');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(/\/tickets$/);
    await page.getByRole('heading', { level: 1, name: 'My tickets' }).waitFor();
    await page.reload();
    await page.getByTestId('signed-in-as').waitFor();
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('link', { name: 'Sign in' }).waitFor();
    await context.close();
  });
});

/** A wide banner as an organizer might export it: a night harbour with lights, drawn with sharp (PNG, 1800 × 900). */
async function harbourPng(): Promise<Buffer> {
  const lights = Array.from(
    { length: 24 },
    (_, i) => `<circle cx="${60 + i * 72}" cy="${560 + (i % 3) * 14}" r="${6 + (i % 4) * 2}" fill="#fde68a" opacity="${0.6 + (i % 4) / 10}"/>`,
  ).join('');
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="1800" height="900">
    <defs><linearGradient id="sky" x1="0" y1="0" x2="0" y2="1"><stop offset="0" stop-color="#0b1026"/><stop offset="1" stop-color="#3b2a6b"/></linearGradient>
    <linearGradient id="sea" x1="0" y1="0" x2="0" y2="1"><stop offset="0" stop-color="#1e3a8a"/><stop offset="1" stop-color="#020617"/></linearGradient></defs>
    <rect width="1800" height="620" fill="url(#sky)"/><circle cx="1420" cy="190" r="90" fill="#fef3c7"/>
    <path d="M0 600 L200 520 L340 560 L520 470 L700 540 L900 480 L1100 550 L1300 500 L1500 560 L1800 520 L1800 620 L0 620 Z" fill="#111827"/>
    <rect y="600" width="1800" height="300" fill="url(#sea)"/>${lights}</svg>`;
  return sharp(Buffer.from(svg)).png().toBuffer();
}

/** True once an <img> has loaded real pixels (not a broken image or a placeholder). */
function imageLoaded(img: Locator): Promise<boolean> {
  return img.evaluate((el) => {
    const i = el as unknown as { complete: boolean; naturalWidth: number };
    return i.complete && i.naturalWidth > 0;
  });
}
