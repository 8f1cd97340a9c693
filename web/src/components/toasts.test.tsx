import { useEffect } from 'react';
import { act, render, screen } from '@testing-library/react';
import { MemoryRouter } from 'react-router';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ToastProvider, ToastViewport, useToast, type ToastInput } from './toasts';

/** Holds the app's toast function for the test to call, as a component raising toasts would. */
const raiser: { current: (t: ToastInput) => void } = { current: () => {} };
function Raiser() {
  const toast = useToast();
  useEffect(() => {
    raiser.current = toast;
  }, [toast]);
  return null;
}
const raise = (t: ToastInput) => raiser.current(t);

function renderToasts() {
  render(
    <ToastProvider durationMs={1000}>
      <MemoryRouter>
        <Raiser />
        <ToastViewport />
      </MemoryRouter>
    </ToastProvider>,
  );
}

const confirmed = { title: 'Order confirmed', body: 'Your 2 tickets for Harbour Lights are confirmed.', tone: 'success', href: '/events/1' } as const;

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

describe('toasts', () => {
  it('never shows the same toast twice at once; the repeat keeps it up for the full time again', () => {
    renderToasts();
    act(() => raise(confirmed));
    act(() => vi.advanceTimersByTime(800));
    act(() => raise({ ...confirmed }));
    expect(screen.getAllByTestId('toast')).toHaveLength(1);
    act(() => vi.advanceTimersByTime(800));
    expect(screen.getAllByTestId('toast')).toHaveLength(1);
    act(() => vi.advanceTimersByTime(200));
    expect(screen.queryAllByTestId('toast')).toHaveLength(0);
  });

  it('shows toasts that say different things side by side, each leaving on its own', () => {
    renderToasts();
    act(() => raise(confirmed));
    act(() => raise({ ...confirmed, body: 'Your 1 ticket for Harbour Lights is confirmed.' }));
    act(() => raise({ title: 'Ticket cancelled', tone: 'info' }));
    expect(screen.getAllByTestId('toast')).toHaveLength(3);
    act(() => screen.getAllByRole('button', { name: 'Dismiss notification' })[0]!.click());
    expect(screen.getAllByTestId('toast')).toHaveLength(2);
    // Dismissed, it may be shown again.
    act(() => raise(confirmed));
    expect(screen.getAllByTestId('toast')).toHaveLength(3);
    act(() => vi.advanceTimersByTime(1000));
    expect(screen.queryAllByTestId('toast')).toHaveLength(0);
  });
});
