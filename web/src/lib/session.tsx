import { createContext, useCallback, useContext, useEffect, useMemo, useState, useSyncExternalStore, type ReactNode } from 'react';
import { apiRequest } from './api-client';
import { sessionStore, type SessionData } from './session-store';

export { loadSession, type SessionData } from './session-store';

interface SessionContextValue {
  session: SessionData | null;
  user: SessionData['user'] | null;
  signIn: (session: SessionData) => void;
  signOut: () => void;
  /** The server refused the session: sign out without being asked, and let the app say so. */
  expire: () => void;
  /** Signed out because the session expired (not by choice), until the next sign-in or until the notice is dismissed. */
  expired: boolean;
  acknowledgeExpiry: () => void;
}

const SessionContext = createContext<SessionContextValue | null>(null);

/** Exposes the session store to React; `initial` replaces what is saved (tests start from a known session). */
export function SessionProvider({ children, initial }: { children: ReactNode; initial?: SessionData | null }) {
  useState(() => {
    if (initial !== undefined) sessionStore.set(initial);
    return null;
  });
  const session = useSyncExternalStore(sessionStore.subscribe, sessionStore.get, sessionStore.get);
  const expired = useSyncExternalStore(sessionStore.subscribe, sessionStore.expired, sessionStore.expired);

  const signIn = useCallback((next: SessionData) => sessionStore.set(next), []);
  /** Ends the session here (as asked, or because the server refused it) and revokes its refresh token there too. */
  const end = useCallback((how: 'signOut' | 'expire') => {
    const refreshToken = sessionStore.get()?.refreshToken;
    if (how === 'expire') sessionStore.expire();
    else sessionStore.set(null);
    // Signing out here must not wait for (or fail with) that call.
    if (refreshToken) void apiRequest('/sessions/logout', { method: 'POST', body: { refreshToken } }).catch(() => {});
  }, []);
  const signOut = useCallback(() => end('signOut'), [end]);
  const expire = useCallback(() => end('expire'), [end]);

  // Without a usable refresh token the session is over: sign out then rather than fail the next request.
  useEffect(() => {
    if (!session) return;
    const ms = Date.parse(session.refreshExpiresAt) - Date.now();
    const timer = setTimeout(() => sessionStore.expire(), Math.min(Math.max(ms, 0), 2_147_000_000));
    return () => clearTimeout(timer);
  }, [session]);

  const value = useMemo(
    () => ({ session, user: session?.user ?? null, signIn, signOut, expire, expired, acknowledgeExpiry: sessionStore.acknowledgeExpiry }),
    [session, signIn, signOut, expire, expired],
  );
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

export function useSession(): SessionContextValue {
  const ctx = useContext(SessionContext);
  if (!ctx) throw new Error('useSession must be used inside <SessionProvider>');
  return ctx;
}
