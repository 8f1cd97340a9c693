import type { ReactNode } from 'react';
import { render } from '@testing-library/react';
import { createMemoryRouter, RouterProvider, type RouteObject } from 'react-router';
import type { Socket } from 'socket.io-client';
import { vi } from 'vitest';
import { AppProviders } from '@/app/providers';
import { ToastViewport } from '@/components/toasts';
import type { SessionData } from '@/lib/session';

export const attendeeSession: SessionData = {
  token: 'test-token',
  expiresAt: new Date(Date.now() + 900_000).toISOString(),
  refreshToken: 'test-refresh-token-0123456789',
  refreshExpiresAt: new Date(Date.now() + 30 * 86_400_000).toISOString(),
  user: { id: 'user-1', email: 'ada@example.com', name: 'Ada', role: 'attendee', createdAt: '2025-01-01T00:00:00.000Z' },
};

export const organizerSession: SessionData = {
  ...attendeeSession,
  user: { ...attendeeSession.user, id: 'org-1', name: 'Olivia', role: 'organizer' },
};

/** A stand-in for the Socket.IO connection: records handlers so a test can "push" from the server. */
export function fakeSocket() {
  const handlers = new Map<string, ((...args: unknown[]) => void)[]>();
  const socket = {
    on(event: string, fn: (...args: unknown[]) => void) {
      handlers.set(event, [...(handlers.get(event) ?? []), fn]);
      return socket;
    },
    removeAllListeners() {
      handlers.clear();
      return socket;
    },
    close: vi.fn(),
    connect: vi.fn(),
    disconnect: vi.fn(),
    /** What the client sent: (event, payload, ack). */
    emit: vi.fn(),
    connected: false,
    /** False after a refused handshake: Socket.IO then leaves reconnecting to the app. */
    active: false,
    emitFromServer(event: string, ...args: unknown[]) {
      if (event === 'connect') socket.connected = true;
      if (event === 'disconnect') socket.connected = false;
      for (const fn of handlers.get(event) ?? []) fn(...args);
    },
  };
  return { socket, connect: () => socket as unknown as Socket };
}

/** JSON answer for a fake fetch. */
export const json = (body: unknown, status = 200) => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

/** Renders `ui` (or the given routes) inside the app's real providers and a memory router. */
export function renderApp(
  ui: ReactNode,
  { session = null, path = '/', routes, socket }: { session?: SessionData | null; path?: string; routes?: RouteObject[]; socket?: ReturnType<typeof fakeSocket> } = {},
) {
  const router = createMemoryRouter(
    routes ?? [
      {
        path: '*',
        element: (
          <>
            {ui}
            <ToastViewport />
          </>
        ),
      },
    ],
    { initialEntries: [path] },
  );
  const live = socket ?? fakeSocket();
  const utils = render(
    <AppProviders session={session} connect={live.connect}>
      <RouterProvider router={router} />
    </AppProviders>,
  );
  return { ...utils, router, socket: live.socket };
}
