import { useState, type ReactNode } from 'react';
import { MutationCache, QueryCache, QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { ToastProvider } from '../components/toasts';
import { ApiError } from '../lib/api-client';
import { LiveProvider, type SocketFactory } from '../lib/live';
import { SessionProvider, useSession, type SessionData } from '../lib/session';

/** Retries only what may succeed on a retry: network failures and 5xx, never a 4xx answer. */
function shouldRetry(failures: number, error: unknown): boolean {
  if (error instanceof ApiError && error.status >= 400 && error.status < 500) return false;
  return failures < 2;
}

/** A token the server no longer accepts means the session is over: sign out, and protected pages ask to log in. */
function QueryLayer({ children }: { children: ReactNode }) {
  const { signOut } = useSession();
  const [client] = useState(() => {
    const onError = (error: unknown) => {
      if (error instanceof ApiError && error.code === 'UNAUTHENTICATED') signOut();
    };
    return new QueryClient({
      queryCache: new QueryCache({ onError }),
      mutationCache: new MutationCache({ onError }),
      defaultOptions: { queries: { retry: shouldRetry, staleTime: 10_000, refetchOnWindowFocus: true }, mutations: { retry: false } },
    });
  });
  return <QueryClientProvider client={client}>{children}</QueryClientProvider>;
}

export function AppProviders({ children, session, connect }: { children: ReactNode; session?: SessionData | null; connect?: SocketFactory }) {
  return (
    <SessionProvider initial={session}>
      <QueryLayer>
        <ToastProvider>
          <LiveProvider connect={connect}>{children}</LiveProvider>
        </ToastProvider>
      </QueryLayer>
    </SessionProvider>
  );
}
