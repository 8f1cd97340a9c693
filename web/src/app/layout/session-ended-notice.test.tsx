import { screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { useQuery } from '@tanstack/react-query';
import { Outlet } from 'react-router';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { SignInPage } from '@/features/auth';
import { apiRequest } from '@/lib/api-client';
import { sessionStore } from '@/lib/session-store';
import { attendeeSession, json, renderApp } from '@/test/render';
import { RequireSignIn } from '@/app/require-sign-in';
import { Navbar } from './navbar';
import { SessionEndedNotice } from './session-ended-notice';

/** A page that reads something of the signed-in user's, as My tickets does. */
function MyThings() {
  const things = useQuery({ queryKey: ['things'], queryFn: () => apiRequest<{ items: string[] }>('/things', { auth: true }) });
  return <h1>{things.data ? `${things.data.items.length} things` : 'My things'}</h1>;
}

const routes = [
  {
    element: (
      <>
        <Navbar />
        <SessionEndedNotice />
        <Outlet />
      </>
    ),
    children: [
      { path: '/', element: null },
      { path: '/signin', element: <SignInPage /> },
      { path: '/events/:id', element: <MyThings /> },
      { element: <RequireSignIn />, children: [{ path: '/things', element: <MyThings /> }] },
    ],
  },
];

/**
 * A fake API (the servers are not under test here) whose session has ended: the access token and the refresh token
 * are both refused, until the person signs in again.
 */
function endedSessionServer() {
  let signedInAgain = false;
  const refused = (code: string) => json({ code, message: 'This session has ended. Please sign in again.', requestId: 'r' }, 401);
  vi.stubGlobal(
    'fetch',
    vi.fn(async (url: string | URL | Request) => {
      const path = String(url);
      if (path === '/api/sessions/refresh') return refused('INVALID_REFRESH_TOKEN');
      if (path === '/api/sessions') {
        signedInAgain = true;
        return json({ ...attendeeSession, token: 'new-token' });
      }
      if (path === '/api/things') return signedInAgain ? json({ items: ['a', 'b'] }) : refused('UNAUTHENTICATED');
      return json({ items: [], nextCursor: null, unreadCount: 0 });
    }),
  );
}

afterEach(() => vi.unstubAllGlobals());

describe('a session the server has ended', () => {
  it('on a protected page: sign in again, told why, and come back to the page', async () => {
    endedSessionServer();
    const { router } = renderApp(null, { routes, path: '/things', session: attendeeSession });
    expect(await screen.findByText(/Your session ended, so you have been signed out\. Sign in again to go back to where you were\./)).toBeInTheDocument();
    expect(router.state.location.pathname + router.state.location.search).toBe('/signin?next=%2Fthings');
    expect(screen.queryByText('Please sign in to continue.')).toBeNull();

    const user = userEvent.setup();
    await user.type(screen.getByLabelText('Email'), 'ada@example.com');
    await user.type(screen.getByLabelText('Password'), 'correct horse battery');
    await user.click(screen.getByRole('button', { name: 'Sign in' }));
    expect(await screen.findByRole('heading', { name: '2 things' })).toBeInTheDocument();
    expect(screen.queryByTestId('session-ended')).toBeNull();
  });

  it('on a public page: a notice says so, with a way to sign in and return; it can be dismissed', async () => {
    endedSessionServer();
    renderApp(null, { routes, path: '/events/42', session: attendeeSession });
    const notice = await screen.findByRole('alert');
    expect(notice).toHaveTextContent('Your session ended, so you have been signed out.');
    expect(screen.getByRole('link', { name: 'Sign in again' })).toHaveAttribute('href', '/signin?next=%2Fevents%2F42');
    await userEvent.setup().click(screen.getByRole('button', { name: 'Dismiss' }));
    expect(screen.queryByRole('alert')).toBeNull();
  });

  it('says nothing when the person signed out themselves', async () => {
    vi.stubGlobal(
      'fetch',
      vi.fn(async () => json({ items: [], nextCursor: null, unreadCount: 0 })),
    );
    renderApp(null, { routes, path: '/events/42', session: attendeeSession });
    await userEvent.setup().click(screen.getByRole('button', { name: 'Sign out' }));
    await waitFor(() => expect(sessionStore.get()).toBeNull());
    expect(screen.queryByTestId('session-ended')).toBeNull();
  });
});
