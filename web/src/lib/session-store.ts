import { Session } from '@dems/contracts';

export type SessionData = Session;

const STORAGE_KEY = 'dems.session';

/**
 * Reads the saved session. It lasts as long as its refresh token: the access token inside is short-lived
 * (15 minutes) and is renewed on demand. A damaged or fully expired session counts as signed out.
 */
export function loadSession(storage: Storage = localStorage, now = Date.now()): SessionData | null {
  try {
    const raw = storage.getItem(STORAGE_KEY);
    if (!raw) return null;
    const parsed = Session.safeParse(JSON.parse(raw));
    if (!parsed.success || Date.parse(parsed.data.refreshExpiresAt) <= now) {
      storage.removeItem(STORAGE_KEY);
      return null;
    }
    return parsed.data;
  } catch {
    return null;
  }
}

type Listener = () => void;

/**
 * The one place the session lives in this tab: React reads it through useSyncExternalStore, the API client
 * reads and renews the token here. Kept in localStorage so a reload stays signed in, and in step with other tabs.
 */
function createSessionStore() {
  let current: SessionData | null = typeof localStorage === 'undefined' ? null : loadSession();
  /** True once the server ended the session without the person asking (it expired or was revoked), until they sign in again. */
  let expired = false;
  const listeners = new Set<Listener>();
  const notify = () => listeners.forEach((l) => l());

  if (typeof window !== 'undefined') {
    window.addEventListener('storage', (e) => {
      if (e.key !== STORAGE_KEY) return;
      current = loadSession();
      notify();
    });
  }

  const write = (next: SessionData | null, endedByExpiry = false): void => {
    current = next;
    expired = endedByExpiry;
    if (next) localStorage.setItem(STORAGE_KEY, JSON.stringify(next));
    else localStorage.removeItem(STORAGE_KEY);
    notify();
  };

  return {
    get: (): SessionData | null => current,
    set: (next: SessionData | null): void => write(next),
    /** The server no longer accepts this session: signed out, and the app says why (see `expired`). */
    expire(): void {
      if (current) write(null, true);
    },
    /** Whether the last session ended by expiring rather than by signing out. */
    expired: (): boolean => expired,
    /** The person has read why they were signed out. */
    acknowledgeExpiry(): void {
      if (!expired) return;
      expired = false;
      notify();
    },
    /** What another tab may have saved since this one last looked. */
    reload(): SessionData | null {
      current = loadSession();
      notify();
      return current;
    },
    subscribe(listener: Listener): () => void {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}

export const sessionStore = createSessionStore();
