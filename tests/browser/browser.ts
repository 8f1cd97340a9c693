import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { expect } from 'vitest';
import { ROOT } from '../../scripts/lib/system.mjs';

export const CHROMIUM = '/usr/bin/chromium';
export const hasChromium = existsSync(CHROMIUM);

/** Under CI a missing browser is a broken machine, not a reason to skip: say so loudly. */
export function requireChromiumUnderCi(): void {
  if (!hasChromium && process.env.CI === 'true') {
    throw new Error(`${CHROMIUM} is missing; .ci/run installs it with apt-get (apt-get install -y chromium).`);
  }
  if (!hasChromium) console.warn(`Skipping browser tests: ${CHROMIUM} is not installed (apt-get install -y chromium).`);
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
  });
}

/** A context whose page errors fail the test: an uncaught exception in the app is a bug, however the page looks. */
export async function openContext(browser: Browser, baseURL: string): Promise<{ context: BrowserContext; page: Page; errors: string[] }> {
  const context = await browser.newContext({ baseURL, viewport: { width: 1280, height: 800 }, acceptDownloads: true });
  context.setDefaultTimeout(15_000);
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(err.message));
  return { context, page, errors };
}

const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: string[] }[];
}

/** Runs axe-core on the page as it is now; returns serious and critical violations only. */
export async function seriousA11yViolations(page: Page): Promise<string[]> {
  // Evaluated through the DevTools protocol rather than added as a <script>: the gateway's CSP (script-src
  // 'self') rightly blocks inline scripts, and the page is checked under its real policy.
  await page.evaluate(axeSource);
  // A string, not a function: the root type-check has no DOM types, and this runs in the page anyway.
  const violations = await page.evaluate<AxeViolation[]>(`
    axe.run(document, { resultTypes: ['violations'] }).then((result) =>
      result.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => ({ target: n.target })) })))
  `);
  return violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.impact} ${v.id}: ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}

export async function expectAccessible(page: Page, what: string): Promise<void> {
  const found = await seriousA11yViolations(page);
  // As one string, so a failure names each violation and where (an array prints as `[ Array(1) ]`).
  expect(found.join('\n'), `axe-core on ${what}`).toBe('');
}

// Each run's screens go to test-results; UPDATE_SCREENSHOTS=1 refreshes the ones committed for the README.
const SHOTS = join(ROOT, process.env.UPDATE_SCREENSHOTS ? 'docs/screenshots' : 'test-results/screenshots');

/**
 * Saves what a person sees at the top of the page at desktop (1280×800) and phone (375×812) size, then restores
 * the desktop size. Screens, not full pages: fixed toasts and the sticky navbar sit where they really do.
 */
export async function screenshots(page: Page, name: string): Promise<void> {
  mkdirSync(SHOTS, { recursive: true });
  for (const [suffix, size] of [
    ['desktop', { width: 1280, height: 800 }],
    ['phone', { width: 375, height: 812 }],
  ] as const) {
    await page.setViewportSize(size);
    await page.evaluate('window.scrollTo(0, 0)');
    await page.waitForTimeout(150);
    await page.screenshot({ path: join(SHOTS, `${name}-${suffix}.png`), animations: 'disabled' });
  }
  await page.setViewportSize({ width: 1280, height: 800 });
}

/** Closes every toast, so a screenshot shows the page underneath. */
export async function dismissToasts(page: Page): Promise<void> {
  const dismiss = page.getByRole('button', { name: 'Dismiss notification' });
  // They also leave by themselves after a few seconds, so one may be gone before its click lands.
  while ((await dismiss.count()) > 0)
    await dismiss
      .first()
      .click({ timeout: 2000 })
      .catch(() => {});
}

/** Signs up through the form, as a person would; lands signed in. */
export async function signUp(page: Page, { name, email, role }: { name: string; email: string; role: 'attendee' | 'organizer' }): Promise<void> {
  await page.goto('/signup');
  await page.getByLabel('Your name').fill(name);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill('correct horse battery');
  await page.getByLabel(role === 'organizer' ? 'Organize events' : 'Go to events').check();
  await page.getByRole('button', { name: 'Sign up' }).click();
  await page.getByTestId('signed-in-as').filter({ hasText: name }).waitFor();
}

/** The signed-in user's token, as the app keeps it, to check what the API says behind the UI. */
export async function tokenOf(page: Page): Promise<string> {
  const raw = await page.evaluate<string | null>("localStorage.getItem('dems.session')");
  if (!raw) throw new Error('not signed in');
  return (JSON.parse(raw) as { token: string }).token;
}

/** "2025-06-14T19:30" for a datetime-local input, `days` from now at `hour`:00. */
export function localInput(days: number, hour: number): string {
  const d = new Date(Date.now() + days * 86_400_000);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}T${pad(hour)}:00`;
}
