import { act, screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { Outlet } from 'react-router';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { SignInPage, SignUpPage } from '@/features/auth';
import { attendeeSession, json, renderApp } from '@/test/render';
import { Navbar } from './navbar';

/** The navbar above the page, as the app's layout draws it. */
const routes = [
  {
    element: (
      <>
        <Navbar />
        <Outlet />
      </>
    ),
    children: [
      { path: '/signin', element: <SignInPage /> },
      { path: '/signup', element: <SignUpPage /> },
      { path: '*', element: null },
    ],
  },
];

/** A screen as wide as `width` for the navbar's media query (jsdom lays nothing out; the query is all it reads). */
function screenWidth(width: number) {
  const listeners = new Set<() => void>();
  let current = width;
  vi.stubGlobal(
    'matchMedia',
    vi.fn((query: string) => ({
      get matches() {
        return current >= Number(/min-width: (\d+)px/.exec(query)?.[1] ?? 0);
      },
      addEventListener: (_: string, fn: () => void) => listeners.add(fn),
      removeEventListener: (_: string, fn: () => void) => listeners.delete(fn),
    })),
  );
  return {
    resize(next: number) {
      current = next;
      listeners.forEach((fn) => fn());
    },
  };
}

/** The bell's unread count, answered empty: the navbar is under test, not notifications. */
const noNotifications = () =>
  vi.stubGlobal(
    'fetch',
    vi.fn(async () => json({ items: [], nextCursor: null, unreadCount: 0 })),
  );

/** Focusable things of the navbar in document order, which is Tab order here (no tabindex is set). */
const tabOrder = () =>
  [...screen.getByRole('navigation', { name: 'Main' }).querySelectorAll<HTMLElement>('a[href], button')].map((el) => el.getAttribute('aria-label') ?? el.textContent?.trim());

afterEach(() => vi.unstubAllGlobals());

describe('navbar', () => {
  it('Sign in and Sign up both come back to the page the visitor is on', async () => {
    renderApp(null, { routes, path: '/events/42?ref=mail' });
    const nav = within(screen.getByRole('navigation', { name: 'Main' }));
    expect(nav.getByRole('link', { name: 'Sign in' })).toHaveAttribute('href', '/signin?next=%2Fevents%2F42%3Fref%3Dmail');
    expect(nav.getByRole('link', { name: 'Sign up' })).toHaveAttribute('href', '/signup?next=%2Fevents%2F42%3Fref%3Dmail');
  });

  it('on the sign-in page, Sign up keeps where sign-in was to return; from the home page there is nothing to keep', async () => {
    const { router } = renderApp(null, { routes, path: '/signin?next=%2Ftickets' });
    const nav = within(screen.getByRole('navigation', { name: 'Main' }));
    expect(nav.getByRole('link', { name: 'Sign up' })).toHaveAttribute('href', '/signup?next=%2Ftickets');
    expect(screen.getByRole('link', { name: 'Create an account' })).toHaveAttribute('href', '/signup?next=%2Ftickets');
    await act(() => router.navigate('/'));
    expect(screen.getByRole('link', { name: 'Sign up' })).toHaveAttribute('href', '/signup');
  });

  it('Escape closes the phone menu and gives focus back to the menu button', async () => {
    screenWidth(390);
    renderApp(null, { routes, path: '/' });
    const user = userEvent.setup();
    const button = screen.getByRole('button', { name: 'Open menu' });
    await user.click(button);
    expect(button).toHaveAttribute('aria-expanded', 'true');
    await user.tab();
    expect(screen.getByRole('link', { name: 'Discover' })).toHaveFocus();
    await user.keyboard('{Escape}');
    expect(button).toHaveAttribute('aria-expanded', 'false');
    expect(button).toHaveAccessibleName('Open menu');
    expect(button).toHaveFocus();
  });

  it('puts the bell in Tab order where it is seen: beside the menu button on phones, after the last entry on wide screens', async () => {
    noNotifications();
    const screenSize = screenWidth(390);
    renderApp(null, { routes, path: '/', session: attendeeSession });
    expect(tabOrder()).toEqual(['DEMS', 'Notifications, none unread', 'Open menu', 'Discover', 'My tickets', 'Registrations', 'Sign out']);
    act(() => screenSize.resize(1280));
    expect(tabOrder()).toEqual(['DEMS', 'Open menu', 'Discover', 'My tickets', 'Registrations', 'Sign out', 'Notifications, none unread']);
  });
});
