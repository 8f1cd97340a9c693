import { createContext, useCallback, useContext, useEffect, useMemo, useState, useSyncExternalStore, type ReactNode } from 'react';
import { apiRequest } from './api-client';
import { sessionStore, type SessionData } from './session-store';

export { loadSession, type SessionData } from './session-store';

interface SessionContextValue {
  session: SessionData | null;
  user: SessionData['user'] | null;
  signIn: (session: SessionData) => void;
  signOut: () => void;
}

const SessionContext = createContext<SessionContextValue | null>(null);

/** Exposes the session store to React; `initial` replaces what is saved (tests start from a known session). */
export function SessionProvider({ children, initial }: { children: ReactNode; initial?: SessionData | null }) {
  useState(() => {
    if (initial !== undefined) sessionStore.set(initial);
    return null;
  });
  const session = useSyncExternalStore(sessionStore.subscribe, sessionStore.get, sessionStore.get);

  const signIn = useCallback((next: SessionData) => sessionStore.set(next), []);
  const signOut = useCallback(() => {
    const refreshToken = sessionStore.get()?.refreshToken;
    sessionStore.set(null);
    // Revoke the refresh token on the server too; signing out here must not wait for (or fail with) that call.
    if (refreshToken) void apiRequest('/sessions/logout', { method: 'POST', body: { refreshToken } }).catch(() => {});
  }, []);

  // Without a usable refresh token the session is over: sign out then rather than fail the next request.
  useEffect(() => {
    if (!session) return;
    const ms = Date.parse(session.refreshExpiresAt) - Date.now();
    const timer = setTimeout(() => sessionStore.set(null), Math.min(Math.max(ms, 0), 2_147_000_000));
    return () => clearTimeout(timer);
  }, [session]);

  const value = useMemo(() => ({ session, user: session?.user ?? null, signIn, signOut }), [session, signIn, signOut]);
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

export function useSession(): SessionContextValue {
  const ctx = useContext(SessionContext);
  if (!ctx) throw new Error('useSession must be used inside <SessionProvider>');
  return ctx;
}
