import { useState, type ReactNode } from 'react';
import { MutationCache, QueryCache, QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { ToastProvider } from '@/components/toasts';
import { ApiError } from '@/lib/api-client';
import { LiveProvider, type SocketFactory } from '@/lib/live';
import { retryDelay, retryQuery } from '@/lib/retry-policy';
import { SessionProvider, useSession, type SessionData } from '@/lib/session';

/**
 * A token the server no longer accepts (even after renewing) means the session is over: sign out saying why, and
 * protected pages ask to sign in again and come back.
 */
function QueryLayer({ children }: { children: ReactNode }) {
  const { expire } = useSession();
  const [client] = useState(() => {
    const onError = (error: unknown) => {
      if (error instanceof ApiError && error.code === 'UNAUTHENTICATED') expire();
    };
    return new QueryClient({
      queryCache: new QueryCache({ onError }),
      mutationCache: new MutationCache({ onError }),
      // Reads are retried politely (lib/retry-policy.ts); changes only where they opt in (those with an Idempotency-Key).
      // Offline, a read waits for the connection and starts by itself when it returns (the page says so meanwhile);
      // a change is tried at once and fails saying the connection is down, rather than waiting unseen to be sent
      // later — perhaps long after the person has stopped expecting it.
      defaultOptions: {
        queries: { retry: retryQuery, retryDelay, staleTime: 10_000, refetchOnWindowFocus: true },
        mutations: { retry: false, networkMode: 'always' },
      },
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
