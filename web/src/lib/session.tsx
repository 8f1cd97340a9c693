import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';
import { Session } from '@dems/contracts';

export type SessionData = Session;

const STORAGE_KEY = 'dems.session';

/** Reads the saved session; a damaged or expired one counts as signed out. */
export function loadSession(storage: Storage = localStorage, now = Date.now()): SessionData | null {
  try {
    const raw = storage.getItem(STORAGE_KEY);
    if (!raw) return null;
    const parsed = Session.safeParse(JSON.parse(raw));
    if (!parsed.success || Date.parse(parsed.data.expiresAt) <= now) {
      storage.removeItem(STORAGE_KEY);
      return null;
    }
    return parsed.data;
  } catch {
    return null;
  }
}

interface SessionContextValue {
  session: SessionData | null;
  token: string | null;
  user: SessionData['user'] | null;
  signIn: (session: SessionData) => void;
  signOut: () => void;
}

const SessionContext = createContext<SessionContextValue | null>(null);

/** Keeps the signed-in session in localStorage so a reload (or another tab) stays signed in. */
export function SessionProvider({ children, initial }: { children: ReactNode; initial?: SessionData | null }) {
  const [session, setSession] = useState<SessionData | null>(() => (initial === undefined ? loadSession() : initial));

  const signIn = useCallback((next: SessionData) => {
    localStorage.setItem(STORAGE_KEY, JSON.stringify(next));
    setSession(next);
  }, []);
  const signOut = useCallback(() => {
    localStorage.removeItem(STORAGE_KEY);
    setSession(null);
  }, []);

  // Signing in or out in another tab applies here too.
  useEffect(() => {
    const onStorage = (e: StorageEvent) => {
      if (e.key === STORAGE_KEY) setSession(loadSession());
    };
    window.addEventListener('storage', onStorage);
    return () => window.removeEventListener('storage', onStorage);
  }, []);

  // The token stops working at expiresAt; sign out then rather than fail the next request.
  useEffect(() => {
    if (!session) return;
    const ms = Date.parse(session.expiresAt) - Date.now();
    const timer = setTimeout(signOut, Math.min(Math.max(ms, 0), 2_147_000_000));
    return () => clearTimeout(timer);
  }, [session, signOut]);

  const value = useMemo(
    () => ({ session, token: session?.token ?? null, user: session?.user ?? null, signIn, signOut }),
    [session, signIn, signOut],
  );
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

export function useSession(): SessionContextValue {
  const ctx = useContext(SessionContext);
  if (!ctx) throw new Error('useSession must be used inside <SessionProvider>');
  return ctx;
}
