import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it, onTestFailed } from 'vitest';
import { createEvent, startTestSystem, waitOnSale } from '../system/helpers.js';
import { expectAccessible, hasChromium, launchChromium, openContext, requireChromiumUnderCi, screenshots, signUp, tokenOf } from './browser.js';

requireChromiumUnderCi();

/** The current minute in UTC as a datetime-local value: a sale queued "from now" (the event's zone is UTC). */
function thisMinuteUtc(): string {
  return new Date().toISOString().slice(0, 16);
}

/**
 * A queued sale in a real browser against the real system (four processes, the built web app served by the
 * gateway): the organizer queues it on the dashboard, two buyers join, wait their turn live, get a pass and buy;
 * a signed-out visitor is sent to sign in and brought back; turning the room off reaches a waiting page live.
 */
describe.skipIf(!hasChromium)('browser: the waiting room of a queued sale, in Chromium', { timeout: 90_000 }, () => {
  let t: Awaited<ReturnType<typeof startTestSystem>>;
  let browser: Browser;
  const people: Record<'organizer' | 'first' | 'second', { context: BrowserContext; page: Page; errors: string[] }> = {} as never;
  let eventId = '';

  beforeAll(async () => {
    t = await startTestSystem();
    browser = await launchChromium();
    for (const who of ['organizer', 'first', 'second'] as const) people[who] = await openContext(browser, t.system.urls.gateway);
  }, 90_000);

  beforeEach(() => {
    onTestFailed(async () => {
      for (const [who, c] of Object.entries(people)) {
        await c.page.screenshot({ path: `test-results/waiting-room-failure-${who}.png`, fullPage: true }).catch(() => {});
        if (c.errors.length) console.error(`${who} page errors:`, c.errors);
      }
    });
  });

  afterAll(async () => {
    await browser?.close();
    await t?.stop();
  });

  it('the organizer queues the sale from the dashboard: from now, 6 buyers a minute, 5-minute passes', async () => {
    const { page } = people.organizer;
    await signUp(page, { name: 'Quinn Organizer', email: 'quinn-queue@example.com', role: 'organizer' });
    const event = await createEvent(t.api, await tokenOf(page), 20, { title: 'Queued Rush Night', timezone: 'UTC' });
    eventId = event.id;
    await waitOnSale(t.api, eventId);

    await page.goto(`/organizer/events/${eventId}`);
    const section = page.getByRole('region', { name: 'Waiting room' });
    await section.getByRole('button', { name: 'Queue the sale' }).waitFor();
    await section.getByLabel('Sale opens at').fill(thisMinuteUtc());
    await section.getByLabel('Admissions per minute').fill('6');
    await section.getByLabel('Pass minutes').fill('5');
    await section.getByRole('button', { name: 'Queue the sale' }).click();
    await page.getByTestId('toast').filter({ hasText: 'Sale queued' }).waitFor();
    await section.getByTestId('waiting-room-joined').getByText('0', { exact: true }).waitFor();
    await expectAccessible(page, 'the dashboard with its waiting room');

    // Behind the page: the sale is queued for real, a purchase without a pass is refused.
    const buyer = await t.api.account('attendee', 'no-pass-buyer');
    const refused = await t.api.post('/orders', { eventId, ticketTypeId: event.ticketTypes[0]!.id, quantity: 1 }, buyer.token, { 'idempotency-key': 'no-pass-1' });
    expect([refused.status, refused.body.code]).toEqual([403, 'QUEUE_PASS_REQUIRED']);
    expect(people.organizer.errors).toEqual([]);
  });

  it('two buyers join: the first is let in at once and buys with the pass; the second waits (10 s apart) and is let in by itself', async () => {
    const first = people.first.page;
    const second = people.second.page;
    await signUp(first, { name: 'Fay First', email: 'fay-queue@example.com', role: 'attendee' });
    await signUp(second, { name: 'Sam Second', email: 'sam-queue@example.com', role: 'attendee' });
    for (const page of [first, second]) await page.goto(`/events/${eventId}`);
    await first.getByTestId('queued-sale').waitFor();
    expect(await first.getByRole('button', { name: /Buy/ }).count()).toBe(0);
    await expectAccessible(first, 'a queued sale before joining');

    await first.getByRole('button', { name: 'Join the queue' }).click();
    // First in line, at the opening: let in at once (places are in join order, so the second joins after this answer).
    await first
      .getByText(/It’s your turn|You’re in/)
      .first()
      .waitFor();
    await second.getByRole('button', { name: 'Join the queue' }).click();

    // The second is one place behind, at 6 a minute: up to 10 s to wait, counted down each second.
    const waiting = second.getByTestId('queue-waiting');
    await waiting.getByText('Keep this tab open — we’ll let you in automatically.').waitFor();
    expect(await second.getByTestId('queue-position').textContent()).toBe('#2');
    await expectAccessible(second, 'the waiting view');
    await screenshots(second, 'waiting-room');

    await first.getByText(/You’re in — you have [45] minutes/).waitFor();
    const general = first.getByTestId('ticket-type-General');
    await general.getByRole('button', { name: /Buy/ }).click();
    await general.getByText('You’re going! 1 ticket confirmed.').waitFor();
    await expectAccessible(first, 'an admitted buyer');

    await second.getByText(/You’re in — you have [45] minutes/).waitFor({ timeout: 20_000 });
    await second.getByRole('timer', { name: 'Time left to buy' }).waitFor();
    // A reload keeps the pass (the place lives in sessionStorage): no second place, straight back to Buy.
    await second.reload();
    const secondGeneral = second.getByTestId('ticket-type-General');
    await secondGeneral.getByLabel('Quantity of General tickets').selectOption('2');
    await secondGeneral.getByRole('button', { name: /Buy/ }).click();
    await secondGeneral.getByText('You’re going! 2 tickets confirmed.').waitFor();

    const organizer = people.organizer.page;
    await organizer.getByTestId('waiting-room-joined').getByText('2', { exact: true }).waitFor({ timeout: 15_000 });
    expect(people.first.errors).toEqual([]);
    expect(people.second.errors).toEqual([]);
  });

  it('a signed-out visitor is sent to sign in and brought back to the queue', async () => {
    const visitor = await openContext(browser, t.system.urls.gateway);
    const { page } = visitor;
    await t.api.account('attendee', 'vic-queue');
    await page.goto(`/events/${eventId}`);
    await page.getByRole('link', { name: 'Sign in to join the queue' }).click();
    await page.waitForURL(/\/signin\?next=/);
    await page.getByLabel('Email').fill('vic-queue@example.com');
    await page.getByLabel('Password').fill('correct horse battery');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(new RegExp(`/events/${eventId}$`));
    await page.getByRole('button', { name: 'Join the queue' }).waitFor();
    expect(visitor.errors).toEqual([]);
    await visitor.context.close();
  });

  it('turning the waiting room off reaches a buyer’s open page over the socket: Buy is back, no reload', async () => {
    const buyer = people.first.page;
    await buyer.goto(`/events/${eventId}`);
    await buyer.getByText(/You’re in — you have/).waitFor();
    // The page also re-reads the room every 10 s; those reads are held at the queued room (a forced stale view —
    // the only fake here), so only the live push can tell this page that the sale is no longer queued.
    const queued = await buyer.evaluate(async (id) => (await fetch(`/api/waiting-rooms/${id}`)).text(), eventId);
    await buyer.route(`**/api/waiting-rooms/${eventId}`, (route) =>
      route.request().method() === 'GET' ? route.fulfill({ status: 200, contentType: 'application/json', body: queued }) : route.continue(),
    );
    const navigations: string[] = [];
    buyer.on('framenavigated', (f) => f === buyer.mainFrame() && navigations.push(f.url()));

    const { page } = people.organizer;
    await page.getByRole('region', { name: 'Waiting room' }).getByRole('button', { name: 'Turn off' }).click();
    const dialog = page.getByRole('dialog', { name: 'Turn off the waiting room?' });
    await dialog.getByRole('button', { name: 'Turn off' }).click();
    await page.getByRole('region', { name: 'Waiting room' }).getByRole('button', { name: 'Queue the sale' }).waitFor();

    await buyer.getByTestId('queue-admitted').waitFor({ state: 'detached' });
    await buyer.getByTestId('ticket-type-General').getByRole('button', { name: /Buy/ }).waitFor();
    expect(navigations).toEqual([]);
    await buyer.unrouteAll();
    expect(people.first.errors).toEqual([]);
    expect(people.organizer.errors).toEqual([]);
  });
});
