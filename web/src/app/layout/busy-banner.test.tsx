import { screen, waitFor } from '@testing-library/react';
import { useQuery } from '@tanstack/react-query';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { apiRequest } from '@/lib/api-client';
import { json, renderApp } from '@/test/render';
import { BusyBanner } from './busy-banner';

/** A page reading one thing, as every feature page does, through the app's real query client. */
function EventTitle() {
  const event = useQuery({ queryKey: ['event', 'ev-1'], queryFn: () => apiRequest<{ title: string }>('/events/ev-1') });
  if (event.error) return <p role="alert">failed: {(event.error as Error).message}</p>;
  return <p>{event.data ? event.data.title : 'loading'}</p>;
}

/** A fake API (the servers' 503s are tested in packages/kit): answers in turn, recording when each call came. */
function fakeApi(...answers: (() => Response)[]) {
  const at: number[] = [];
  vi.stubGlobal(
    'fetch',
    vi.fn(async () => {
      at.push(Date.now());
      const next = answers.shift();
      if (!next) throw new Error('no more answers');
      return next();
    }),
  );
  return at;
}

const busy = (code: string, retryAfter: string) =>
  new Response(JSON.stringify({ code, message: 'events is too busy to take this request now; nothing was done.', requestId: 'r' }), {
    status: 503,
    headers: { 'content-type': 'application/json', 'retry-after': retryAfter },
  });

afterEach(() => vi.unstubAllGlobals());

const renderPage = () =>
  renderApp(
    <>
      <BusyBanner />
      <EventTitle />
    </>,
  );

describe('reads while DEMS is busy', () => {
  it('a 503 OVERLOADED is repeated after its Retry-After while a calm banner says so; the answer then fills the page', async () => {
    const at = fakeApi(
      () => busy('OVERLOADED', '2'),
      () => json({ title: 'Jazz Night' }),
    );
    renderPage();
    expect(await screen.findByTestId('busy-banner')).toHaveTextContent('DEMS is busy right now — retrying…');
    expect(screen.queryByRole('alert')).toBeNull();
    expect(await screen.findByText('Jazz Night', {}, { timeout: 4000 })).toBeInTheDocument();
    expect(screen.queryByTestId('busy-banner')).toBeNull();
    expect(at).toHaveLength(2);
    expect(at[1]! - at[0]!).toBeGreaterThanOrEqual(2000);
  });

  it('a request that got no answer is repeated too', async () => {
    fakeApi(
      () => {
        throw new TypeError('Failed to fetch');
      },
      () => json({ title: 'Back again' }),
    );
    renderPage();
    expect(await screen.findByTestId('busy-banner')).toBeInTheDocument();
    expect(await screen.findByText('Back again', {}, { timeout: 3000 })).toBeInTheDocument();
  });

  it('a refusal is shown at once, without a banner or a repeat', async () => {
    const at = fakeApi(() => json({ code: 'EVENT_NOT_FOUND', message: 'No such event.', requestId: 'r' }, 404));
    renderPage();
    expect(await screen.findByRole('alert')).toHaveTextContent('No such event.');
    await waitFor(() => expect(at).toHaveLength(1));
    expect(screen.queryByTestId('busy-banner')).toBeNull();
  });
});
