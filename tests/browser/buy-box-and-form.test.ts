import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it, onTestFailed } from 'vitest';
import { createEvent, eventually, startTestSystem, waitOnSale } from '../system/helpers.js';
import { expectAccessible, hasChromium, launchChromium, openContext, requireChromiumUnderCi, signUp, tokenOf } from './browser.js';

requireChromiumUnderCi();

/** An instant as a datetime-local input shows it in `timeZone`: "2099-07-14T19:00". */
function wallClock(iso: string, timeZone: string): string {
  return new Intl.DateTimeFormat('sv-SE', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit' })
    .format(new Date(iso))
    .replace(' ', 'T');
}

/** The page is no wider than the screen: nothing makes a phone scroll sideways. */
const fitsTheScreen = (page: Page) => page.evaluate<boolean>('document.documentElement.scrollWidth <= document.documentElement.clientWidth');

const SIZES = [
  ['desktop', { width: 1280, height: 800 }],
  ['phone', { width: 390, height: 844 }],
] as const;

/**
 * What a buyer and an organizer see when things change under them, in a real browser against the real system:
 * a sell-out race at the buy box, what an RSVP means next to paid tickets, a time-zone change in the edit form,
 * and unsaved edits when leaving it. Each case runs at desktop and at phone size.
 */
describe.skipIf(!hasChromium)('browser: the buy box and the event form keep their context, in Chromium', { timeout: 90_000 }, () => {
  let t: Awaited<ReturnType<typeof startTestSystem>>;
  let browser: Browser;
  const open: { context: BrowserContext; page: Page; errors: string[] }[] = [];

  beforeAll(async () => {
    t = await startTestSystem();
    browser = await launchChromium();
  }, 90_000);

  beforeEach(() => {
    onTestFailed(async () => {
      for (const [i, c] of open.entries()) {
        await c.page.screenshot({ path: `test-results/buy-box-and-form-failure-${i}.png`, fullPage: true }).catch(() => {});
        if (c.errors.length) console.error(`page ${i} errors:`, c.errors);
      }
    });
  });

  afterAll(async () => {
    await browser?.close();
    await t?.stop();
  });

  /** A person signed up through the form (at desktop size, where the navbar shows who is signed in), then at `size`. */
  async function signedUpPage(size: { width: number; height: number }, person: Parameters<typeof signUp>[1]) {
    const c = await openContext(browser, t.system.urls.gateway);
    open.push(c);
    await signUp(c.page, person);
    await c.page.setViewportSize(size);
    return c;
  }

  /** A week from now on a whole minute: a datetime-local input holds minutes, so a whole minute is kept exactly. */
  function wholeMinutes() {
    const start = Math.floor((Date.now() + 7 * 86_400_000) / 60_000) * 60_000;
    return { startsAt: new Date(start).toISOString(), endsAt: new Date(start + 2 * 3_600_000).toISOString() };
  }

  describe.each(SIZES)('at %s size', (sizeName, size) => {
    let organizer: Awaited<ReturnType<typeof signedUpPage>>;
    let eventId = '';

    beforeAll(async () => {
      organizer = await signedUpPage(size, { name: `Olga ${sizeName}`, email: `olga-${sizeName}@example.com`, role: 'organizer' });
    }, 60_000);

    it('after others buy the last seats, the Buy button names what will be bought; the page counts tickets sold and says an RSVP is not a ticket', async () => {
      const event = await createEvent(t.api, await tokenOf(organizer.page), 4, { title: `Sell-out race ${sizeName}` });
      await waitOnSale(t.api, event.id);
      const buyer = await signedUpPage(size, { name: `Bea ${sizeName}`, email: `bea-${sizeName}@example.com`, role: 'attendee' });
      const { page } = buyer;
      await page.goto(`/events/${event.id}`);
      const row = page.getByTestId('ticket-type-General');
      await row.getByLabel('Quantity of General tickets').selectOption('3');
      await row.getByRole('button', { name: /Buy · €75\.00/ }).waitFor();

      // A second person, in another session, buys three of the four seats meanwhile.
      const rival = await t.api.account('attendee', `rival-${sizeName}`);
      const bought = await t.api.post('/orders', { eventId: event.id, ticketTypeId: event.ticketTypes[0]!.id, quantity: 3 }, rival.token, {
        'idempotency-key': `rival-${sizeName}`,
      });
      expect(bought.status).toBe(201);

      // The page polls its availability: the pick drops to the one seat left, and the button's total with it.
      await row.getByTestId('quantity-lowered').filter({ hasText: 'Only 1 left now, so the quantity was lowered to 1.' }).waitFor({ timeout: 15_000 });
      expect(await row.getByLabel('Quantity of General tickets').inputValue()).toBe('1');
      expect((await row.getByRole('button', { name: /Buy/ }).textContent())?.trim()).toBe('Buy · €25.00 General tickets');
      await expectAccessible(page, `the buy box after a sell-out race (${sizeName})`);
      expect(await fitsTheScreen(page)).toBe(true);

      await row.getByRole('button', { name: /Buy · €25\.00/ }).click();
      await row.getByText('1 ticket confirmed').waitFor();
      const orders = (await t.api.get('/orders', await tokenOf(page))).body.items as { quantity: number; totalCents: number }[];
      expect(orders.map((o) => [o.quantity, o.totalCents])).toEqual([[1, 2500]]);

      // Four tickets sold, no RSVPs: counted as tickets, never "0 people"; the RSVP card says what it is.
      await page.getByTestId('attendance').filter({ hasText: '4 tickets sold' }).waitFor();
      expect(await page.getByText(/0 people/).count()).toBe(0);
      await page.getByRole('heading', { name: 'Interested? RSVP' }).waitFor();
      await page.getByText('An RSVP is not a ticket and does not get you in.', { exact: false }).waitFor();
      await page.getByRole('button', { name: 'RSVP as interested' }).click();
      await page.getByText('You’ve RSVP’d as interested. This is not a ticket: to attend, buy one.').waitFor();
      await page.getByTestId('attendance').filter({ hasText: '4 tickets sold · 1 interested' }).waitFor();
      await expectAccessible(page, `a sold-out paid event with an RSVP (${sizeName})`);
      expect(buyer.errors).toEqual([]);
    });

    it('changing the time zone asks which is meant, and saves exactly that: the same moment, or the same wall clock', async () => {
      const { page } = organizer;
      const event = await createEvent(t.api, await tokenOf(page), 50, { title: `Zone change ${sizeName}`, timezone: 'Europe/Lisbon', ...wholeMinutes() });
      eventId = event.id;
      const original = (await t.api.get(`/events/${eventId}`)).body as { startsAt: string; endsAt: string };

      // The same moment: the inputs now show New York's wall clock, and the saved instants do not move.
      await page.goto(`/organizer/events/${eventId}/edit`);
      const starts = page.getByLabel('Starts');
      expect(await starts.inputValue()).toBe(wallClock(original.startsAt, 'Europe/Lisbon'));
      await page.getByLabel('Time zone').selectOption('America/New_York');
      const question = page.getByRole('group', { name: /The time zone changed from Europe\/Lisbon to America\/New York/ });
      await question.waitFor();
      await expectAccessible(page, `the time-zone question (${sizeName})`);
      expect(await fitsTheScreen(page)).toBe(true);
      await question.getByRole('button', { name: /^Keep the same moment/ }).click();
      expect(await starts.inputValue()).toBe(wallClock(original.startsAt, 'America/New_York'));
      await page.getByRole('button', { name: 'Save changes' }).click();
      await page.waitForURL(new RegExp(`/organizer/events/${eventId}$`));
      const same = (await t.api.get(`/events/${eventId}`)).body as { timezone: string; startsAt: string; endsAt: string };
      expect(same).toMatchObject({ timezone: 'America/New_York', startsAt: original.startsAt, endsAt: original.endsAt });

      // The same wall clock: what read 14:00 in New York reads 14:00 in Tokyo, so the event moves.
      await page.goto(`/organizer/events/${eventId}/edit`);
      const typed = await starts.inputValue();
      await page.getByLabel('Time zone').selectOption('Asia/Tokyo');
      // Saving before answering waits for the answer.
      await page.getByRole('button', { name: 'Save changes' }).click();
      await page.getByText('Choose one of these before saving.').waitFor();
      await page.getByRole('button', { name: new RegExp(`^Keep ${typed.slice(11)} in Asia/Tokyo \\(the event moves 1[34] hours earlier\\)`) }).click();
      await page.getByRole('button', { name: 'Save changes' }).click();
      await page.waitForURL(new RegExp(`/organizer/events/${eventId}$`));
      const moved = (await t.api.get(`/events/${eventId}`)).body as { timezone: string; startsAt: string };
      expect(moved.timezone).toBe('Asia/Tokyo');
      expect(wallClock(moved.startsAt, 'Asia/Tokyo')).toBe(typed);
      // Tokyo is 13 hours ahead of New York in summer, 14 in winter: the event moved that much earlier.
      expect([13, 14]).toContain((Date.parse(same.startsAt) - Date.parse(moved.startsAt)) / 3_600_000);
    });

    it('leaving the form with unsaved edits asks first (Back, the browser back button, a reload); an unchanged form leaves at once', async () => {
      const { page } = organizer;
      await page.goto(`/organizer/events/${eventId}`);
      await page.getByRole('link', { name: 'Edit' }).click();
      await page.getByLabel('Title').waitFor();
      // Unchanged: Back leaves without a word.
      await page.getByRole('button', { name: 'Back' }).click();
      await page.waitForURL(new RegExp(`/organizer/events/${eventId}$`));

      await page.getByRole('link', { name: 'Edit' }).click();
      await page.getByLabel('Title').fill(`Zone change ${sizeName} — now with a late show`);
      await page.getByRole('button', { name: 'Back' }).click();
      const dialog = page.getByRole('dialog', { name: 'Leave without saving?' });
      await dialog.waitFor();
      await expectAccessible(page, `the leave-without-saving dialog (${sizeName})`);
      await dialog.getByRole('button', { name: 'Keep editing' }).click();
      expect(await page.getByLabel('Title').inputValue()).toBe(`Zone change ${sizeName} — now with a late show`);
      expect(page.url()).toMatch(/\/edit$/);

      // A reload asks the browser's own question; staying keeps the edit.
      const asked = new Promise<string>((resolve) => page.once('dialog', (d) => void d.dismiss().then(() => resolve(d.type()))));
      // Dismissed, the reload never happens: its wait is cut short.
      await page.reload({ timeout: 3000 }).catch(() => {});
      expect(await asked).toBe('beforeunload');
      expect(await page.getByLabel('Title').inputValue()).toBe(`Zone change ${sizeName} — now with a late show`);

      // The browser's back button asks too; leaving throws the edit away, as chosen.
      await page.evaluate('history.back()');
      await dialog.getByRole('button', { name: 'Leave without saving' }).click();
      await page.waitForURL(new RegExp(`/organizer/events/${eventId}$`));
      const kept = await eventually(async () => (await t.api.get(`/events/${eventId}`)).body as { title: string });
      expect(kept.title).toBe(`Zone change ${sizeName}`);
      expect(organizer.errors).toEqual([]);
    });
  });
});
