import { screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { SignInPage } from '@/features/auth';
import { attendeeSession, json, renderApp } from '@/test/render';
import { RequireSignIn, SignInMoved } from './require-sign-in';

const routes = [
  { path: '/signin', element: <SignInPage /> },
  { path: '/login', element: <SignInMoved /> },
  { element: <RequireSignIn />, children: [{ path: '/tickets', element: <h1>Ticket wallet</h1> }] },
  { element: <RequireSignIn role="organizer" />, children: [{ path: '/organizer', element: <h1>Organizer home</h1> }] },
];

afterEach(() => vi.unstubAllGlobals());

describe('protected routes', () => {
  it('send a signed-out visitor to sign in, then back where they were going; the session is kept for reloads', async () => {
    // A fake sign-in endpoint: the real one is covered by the engagement service's tests.
    vi.stubGlobal(
      'fetch',
      vi.fn(async () => json(attendeeSession)),
    );
    const { router } = renderApp(null, { routes, path: '/tickets' });
    expect(router.state.location.pathname).toBe('/signin');
    expect(router.state.location.search).toBe('?next=%2Ftickets');
    expect(screen.getByText('Please sign in to continue.')).toBeInTheDocument();

    const user = userEvent.setup();
    await user.click(screen.getByRole('button', { name: 'Sign in' }));
    expect(screen.getByText('Enter your email address.')).toBeInTheDocument();
    await user.type(screen.getByLabelText('Email'), 'ada@example.com');
    await user.type(screen.getByLabelText('Password'), 'correct horse battery');
    await user.click(screen.getByRole('button', { name: 'Sign in' }));
    expect(await screen.findByRole('heading', { name: 'Ticket wallet' })).toBeInTheDocument();
    expect(JSON.parse(localStorage.getItem('dems.session')!)).toMatchObject({ token: 'test-token' });
  });

  it('take a link to the old /login page to /signin, keeping where to go next', () => {
    const { router } = renderApp(null, { routes, path: '/login?next=%2Ftickets' });
    expect(router.state.location.pathname).toBe('/signin');
    expect(router.state.location.search).toBe('?next=%2Ftickets');
    expect(screen.getByRole('button', { name: 'Sign in' })).toBeInTheDocument();
  });

  it('tell an attendee that organizer pages are for organizers', () => {
    renderApp(null, { routes, path: '/organizer', session: attendeeSession });
    expect(screen.getByRole('heading', { name: 'This page is for organizers' })).toBeInTheDocument();
  });
});
