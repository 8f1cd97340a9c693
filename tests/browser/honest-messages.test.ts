import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it, onTestFailed } from 'vitest';
import { createEvent, startTestSystem, waitOnSale } from '../system/helpers.js';
import { expectAccessible, hasChromium, launchChromium, openContext, requireChromiumUnderCi, tokenOf } from './browser.js';

requireChromiumUnderCi();

const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };
const SIZES = [
  ['desktop', DESKTOP],
  ['phone', PHONE],
] as const;

/** One unbroken word of `length` letters, as a title or venue pasted from elsewhere can be. */
const longWord = (stem: string, length: number) => stem.repeat(Math.ceil(length / stem.length)).slice(0, length);

/**
 * What the app says when things are not fine, in a real browser against the real system: offline, a session the
 * server ended, expected and unexpected errors, long words on a narrow phone, toasts beside the Buy button, and
 * the navbar by keyboard. Each at desktop and phone sizes where the layout differs.
 */
describe.skipIf(!hasChromium)('browser: honest messages and the navbar, in Chromium', { timeout: 90_000 }, () => {
  let t: Awaited<ReturnType<typeof startTestSystem>>;
  let browser: Browser;
  const open: { context: BrowserContext; page: Page; errors: string[] }[] = [];
  const title = longWord('Harbourlightsjazz', 60);
  const venue = longWord('Caisdosodrewarehouse', 60);
  const description = `Doors open at 19:00. Details: https://example.com/${longWord('harbour-lights-programme', 90)}`;
  let eventId = '';
  let organizerEmail = '';

  /** A fresh browser context at `size`, closed after the test file; its page errors fail the test that checks them. */
  async function person(size: { width: number; height: number } = DESKTOP) {
    const c = await openContext(browser, t.system.urls.gateway);
    await c.page.setViewportSize(size);
    open.push(c);
    return c;
  }

  beforeAll(async () => {
    t = await startTestSystem();
    browser = await launchChromium();
    const organizer = await t.api.account('organizer', 'honest-organizer');
    organizerEmail = 'honest-organizer@example.com';
    const event = await createEvent(t.api, organizer.token, 50, { title, venue, description });
    eventId = event.id;
    await waitOnSale(t.api, eventId);
  }, 90_000);

  beforeEach(() => {
    onTestFailed(async () => {
      for (const [i, c] of open.entries()) {
        await c.page.screenshot({ path: `test-results/honest-messages-failure-${i}.png`, fullPage: true }).catch(() => {});
        if (c.errors.length) console.error(`page ${i} errors:`, c.errors);
      }
    });
  });

  afterAll(async () => {
    await browser?.close();
    await t?.stop();
  });

  it('Sign up from the navbar comes back to the event the visitor was looking at (desktop and phone)', async () => {
    for (const [name, size] of SIZES) {
      const { page, errors } = await person(size);
      await page.goto(`/events/${eventId}`);
      await page.getByRole('heading', { level: 1, name: title }).waitFor();
      if (name === 'phone') await page.getByRole('button', { name: 'Open menu' }).click();
      await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Sign up' }).click();
      await page.waitForURL(`**/signup?next=%2Fevents%2F${eventId}`);
      await page.getByLabel('Your name').fill(`Sam ${name}`);
      await page.getByLabel('Email').fill(`sam-${name}@example.com`);
      await page.getByLabel('Password').fill('correct horse battery');
      await page.getByRole('button', { name: 'Sign up' }).click();
      await page.waitForURL(`**/events/${eventId}`);
      await page
        .getByTestId('signed-in-as')
        .filter({ hasText: `Sam ${name}` })
        .waitFor({ state: 'attached' });
      expect(errors).toEqual([]);
    }
  });

  it('Escape closes the phone menu and returns focus to its button; Tab meets the bell where the eye does', async () => {
    const { page, errors } = await person(PHONE);
    await signUpAtAnySize(page, 'Kim Keys', 'kim-keys@example.com');
    const menuButton = page.getByRole('button', { name: 'Open menu' });
    await menuButton.click();
    await page.getByRole('link', { name: 'Discover' }).waitFor();
    await page.keyboard.press('Tab');
    await page.keyboard.press('Escape');
    await page.getByRole('button', { name: 'Open menu' }).waitFor();
    expect(await page.evaluate('document.activeElement?.getAttribute("aria-label")')).toBe('Open menu');
    expect(await page.locator('#main-nav').isVisible()).toBe(false);

    // Tab order follows what is seen, left to right and top to bottom, at both sizes.
    for (const size of [PHONE, DESKTOP]) {
      await page.setViewportSize(size);
      await page.reload();
      await page.getByRole('link', { name: /^Notifications/ }).waitFor();
      const order = await tabOrderWithPositions(page);
      const seen = [...order].sort((a, b) => (Math.abs(a.y - b.y) > 8 ? a.y - b.y : a.x - b.x)).map((e) => e.name);
      expect(
        order.map((e) => e.name),
        `Tab order at ${size.width}px`,
      ).toEqual(seen);
      expect(order.map((e) => e.name)).toContain('Notifications, none unread');
    }
    await expectAccessible(page, 'the navbar, signed in');
    expect(errors).toEqual([]);
  });

  it('expected errors are said plainly, with no reference; an unexpected one gives the reference to quote', async () => {
    const { page, errors } = await person();
    await page.goto('/signin');
    await page.getByLabel('Email').fill(organizerEmail);
    await page.getByLabel('Password').fill('not the password at all');
    await page.getByRole('button', { name: 'Sign in' }).click();
    const wrong = page.getByRole('alert');
    await wrong.waitFor();
    expect(await wrong.textContent()).not.toContain('Reference');

    await page.goto('/events/00000000-0000-4000-8000-000000000000');
    await page.getByRole('alert').waitFor();
    expect(await page.getByRole('alert').textContent()).toMatch(/find that event|No event/);
    expect(await page.getByText(/Reference:/).count()).toBe(0);

    // A fake only to force the failure path: the server breaking (500) on the event's read.
    await page.route('**/api/events/*', (route) =>
      route.fulfill({ status: 500, contentType: 'application/json', body: JSON.stringify({ code: 'INTERNAL', message: 'Something broke.', requestId: 'req-broken-1' }) }),
    );
    await page.goto(`/events/${eventId}`);
    await page.getByText('Reference: req-broken-1').waitFor({ timeout: 20_000 });
    await page.unrouteAll();
    expect(errors).toEqual([]);
  });

  it('offline: the banner says what works, a page that cannot load says so, and it loads when the connection returns', async () => {
    for (const [name, size] of SIZES) {
      const { context, page, errors } = await person(size);
      await page.goto('/');
      await page.getByTestId('event-card').first().waitFor();
      await context.setOffline(true);
      const banner = page.getByTestId('connection-banner');
      await banner.getByText('You are offline.').waitFor();
      expect(await banner.textContent()).not.toContain('Everything you do still works');
      // What is on screen stays.
      expect(await page.getByTestId('event-card').count()).toBeGreaterThan(0);

      // An event not read before cannot load: the page says so instead of grey lines forever.
      await page.getByRole('link', { name: title }).first().click();
      await page.getByTestId('offline-wait').waitFor();
      await expectAccessible(page, `an offline page (${name})`);
      await context.setOffline(false);
      await page.getByRole('heading', { level: 1, name: title }).waitFor();
      await banner.waitFor({ state: 'detached' });
      expect(errors).toEqual([]);
    }
  });

  it('a session the server ended: the person is told, signs in again and is back where they were', async () => {
    const { page, errors } = await person();
    await signUpAtAnySize(page, 'Eve Expired', 'eve-expired@example.com');
    await page.goto('/registrations');
    await page.getByRole('heading', { level: 1, name: 'My registrations' }).waitFor();
    await endSessionOnServer(page);

    // A protected page: sent to sign in, told why.
    await page.goto('/registrations');
    await page.waitForURL('**/signin?next=%2Fregistrations');
    await page.getByText('Your session ended, so you have been signed out. Sign in again to go back to where you were.').waitFor();
    await expectAccessible(page, 'sign-in after the session ended');
    await page.getByLabel('Email').fill('eve-expired@example.com');
    await page.getByLabel('Password').fill('correct horse battery');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL('**/registrations');
    await page.getByRole('heading', { level: 1, name: 'My registrations' }).waitFor();

    // A public page: a notice under the navbar, and Sign in again comes back to the event.
    await endSessionOnServer(page);
    await page.goto(`/events/${eventId}`);
    const notice = page.getByTestId('session-ended');
    await notice.getByText('Your session ended, so you have been signed out.').waitFor();
    await notice.getByRole('link', { name: 'Sign in again' }).click();
    await page.getByLabel('Email').fill('eve-expired@example.com');
    await page.getByLabel('Password').fill('correct horse battery');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`**/events/${eventId}`);
    expect(await notice.count()).toBe(0);
    expect(errors).toEqual([]);
  });

  it('on a phone, the order toast covers neither the Buy button nor the menu, and the same toast never shows twice', async () => {
    const { page, errors } = await person(PHONE);
    await signUpAtAnySize(page, 'Tia Toast', 'tia-toast@example.com');
    await page.goto(`/events/${eventId}`);
    const general = page.getByTestId('ticket-type-General');
    const buy = general.getByRole('button', { name: /Buy/ });
    await buy.waitFor();
    // Scrolled as a person reaching the tickets would: the button just at the bottom of the screen.
    await buy.evaluate((el: any) => {
      const r = el.getBoundingClientRect();
      const w = globalThis as any;
      w.scrollBy(0, r.bottom - w.innerHeight + 12);
    });
    await buy.click();
    const toast = page.getByTestId('toast').filter({ hasText: 'Order confirmed' });
    await toast.waitFor();
    expect(await uncovered(page, buy)).toBe(true);
    // The navbar scrolls with the page; back at the top, the toast leaves its menu button and bell free too.
    await page.evaluate('window.scrollTo(0, 0)');
    expect(await uncovered(page, page.getByRole('button', { name: 'Open menu' }))).toBe(true);

    // A second order of the same ticket says the very same thing: still one toast.
    await general
      .getByText(/confirmed/)
      .first()
      .waitFor();
    await buy.click();
    await expect.poll(async () => (await t.api.get('/orders', await tokenOf(page))).body.items.length).toBe(2);
    await page.waitForTimeout(1500);
    expect(await toast.count()).toBe(1);
    expect(errors).toEqual([]);
  });

  it('long unbroken words never make a page scroll sideways at 360 px', async () => {
    const { page, errors } = await person({ width: 360, height: 800 });
    await signUpAtAnySize(page, longWord('Maximiliana', 60), 'long-words@example.com');
    await page.goto(`/events/${eventId}`);
    await page.getByTestId('ticket-type-General').getByRole('button', { name: /Buy/ }).click();
    await page.getByTestId('toast').filter({ hasText: 'Order confirmed' }).waitFor();
    for (const path of ['/', `/events/${eventId}`, '/tickets', '/notifications']) {
      await page.goto(path);
      await page.getByText(title).first().waitFor();
      expect(await sidewaysOverflow(page), `${path} at 360 px`).toEqual([]);
    }
    // The open menu with a long name in it.
    await page.getByRole('button', { name: 'Open menu' }).click();
    await page.getByTestId('signed-in-as').waitFor();
    expect(await sidewaysOverflow(page), 'the open menu at 360 px').toEqual([]);
    expect(errors).toEqual([]);

    // The organizer's pages show the same title and venue.
    const organizer = await person({ width: 360, height: 800 });
    await organizer.page.goto('/signin');
    await organizer.page.getByLabel('Email').fill(organizerEmail);
    await organizer.page.getByLabel('Password').fill('correct horse battery');
    await organizer.page.getByRole('button', { name: 'Sign in' }).click();
    await organizer.page.waitForURL((url) => url.pathname !== '/signin');
    for (const path of ['/organizer', `/organizer/events/${eventId}`, `/organizer/events/${eventId}/edit`]) {
      await organizer.page.goto(path);
      await organizer.page.getByText(title).first().waitFor();
      await organizer.page.waitForTimeout(300);
      expect(await sidewaysOverflow(organizer.page), `${path} at 360 px`).toEqual([]);
    }
    expect(organizer.errors).toEqual([]);
  });
});

/** Signs up as an attendee through the form; on a phone the signed-in name sits in the closed menu, so the page leaving /signup is the sign. */
async function signUpAtAnySize(page: Page, name: string, email: string): Promise<void> {
  await page.goto('/signup');
  await page.getByLabel('Your name').fill(name);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill('correct horse battery');
  await page.getByRole('button', { name: 'Sign up' }).click();
  await page.waitForURL((url) => url.pathname !== '/signup');
  await page.getByTestId('signed-in-as').waitFor({ state: 'attached' });
}

/** The server no longer accepts this tab's session: its refresh token is revoked and its access token is one the server refuses. */
async function endSessionOnServer(page: Page): Promise<void> {
  const saved = JSON.parse((await page.evaluate<string | null>("localStorage.getItem('dems.session')")) ?? 'null');
  const revoked = await page.request.post('/api/sessions/logout', { data: { refreshToken: saved.refreshToken } });
  expect(revoked.status()).toBeLessThan(300);
  await page.evaluate(`localStorage.setItem('dems.session', ${JSON.stringify(JSON.stringify({ ...saved, token: 'a-token-the-server-refuses' }))})`);
}

/** Focusable navbar elements in Tab order, with where each is drawn (hidden ones are skipped, as Tab skips them). */
function tabOrderWithPositions(page: Page): Promise<{ name: string; x: number; y: number }[]> {
  return page.evaluate(`[...document.querySelectorAll('nav[aria-label="Main"] a[href], nav[aria-label="Main"] button')]
    .filter((el) => el.getClientRects().length > 0 && getComputedStyle(el).visibility !== 'hidden')
    .map((el) => { const r = el.getBoundingClientRect(); return { name: el.getAttribute('aria-label') || el.textContent.trim(), x: Math.round(r.left), y: Math.round(r.top) }; })`);
}

/** Whether what is drawn at the centre of `target` is the target itself (nothing fixed on top of it). */
function uncovered(page: Page, target: ReturnType<Page['locator']>): Promise<boolean> {
  return target.evaluate((el: any) => {
    const r = el.getBoundingClientRect();
    const top = el.ownerDocument.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
    return !!top && (top === el || el.contains(top));
  });
}

/** The page's width beyond the screen's, and the elements that stick out, when it scrolls sideways; empty when not. */
function sidewaysOverflow(page: Page): Promise<string[]> {
  return page.evaluate(`(() => {
    const width = document.documentElement.clientWidth;
    if (document.documentElement.scrollWidth <= width) return [];
    const wide = [...document.querySelectorAll('body *')].filter((el) => el.getBoundingClientRect().right > width + 1);
    return ['scrollWidth ' + document.documentElement.scrollWidth + ' > ' + width, ...wide.slice(0, 8).map((el) => el.tagName.toLowerCase() + '.' + [...el.classList].join('.'))];
  })()`);
}
