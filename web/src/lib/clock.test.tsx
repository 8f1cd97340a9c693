import { act, render, screen } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { useHasEnded, useNow } from './clock';

const DAY_MS = 86_400_000;

beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(new Date('2030-01-01T00:00:00.000Z'));
});
afterEach(() => vi.useRealTimers());

function Ended({ endsAt }: { endsAt: string }) {
  return <p>{useHasEnded({ endsAt }) ? 'over' : 'on'}</p>;
}

function Now({ everyMs }: { everyMs: number }) {
  return <p>{new Date(useNow(everyMs)).toISOString()}</p>;
}

const at = (ms: number) => new Date(Date.parse('2030-01-01T00:00:00.000Z') + ms).toISOString();

describe('useHasEnded', () => {
  it('turns true at the end instant while the page stays open, not a moment before', () => {
    render(<Ended endsAt={at(2000)} />);
    expect(screen.getByText('on')).toBeInTheDocument();
    act(() => vi.advanceTimersByTime(1999));
    expect(screen.getByText('on')).toBeInTheDocument();
    act(() => vi.advanceTimersByTime(1));
    expect(screen.getByText('over')).toBeInTheDocument();
  });

  it('is true at once for an event already over', () => {
    render(<Ended endsAt={at(-1)} />);
    expect(screen.getByText('over')).toBeInTheDocument();
  });

  it('waits out an end beyond what one timer can wait (about 24.8 days) in steps, not firing early', () => {
    render(<Ended endsAt={at(40 * DAY_MS)} />);
    act(() => vi.advanceTimersByTime(30 * DAY_MS));
    expect(screen.getByText('on')).toBeInTheDocument();
    act(() => vi.advanceTimersByTime(10 * DAY_MS - 1));
    expect(screen.getByText('on')).toBeInTheDocument();
    act(() => vi.advanceTimersByTime(1));
    expect(screen.getByText('over')).toBeInTheDocument();
  });

  it('sets no timer for an end it cannot read', () => {
    render(<Ended endsAt="not a time" />);
    expect(vi.getTimerCount()).toBe(0);
    expect(screen.getByText('on')).toBeInTheDocument();
  });
});

describe('useNow', () => {
  it('re-renders with the time every interval', () => {
    render(<Now everyMs={1000} />);
    expect(screen.getByText(at(0))).toBeInTheDocument();
    act(() => vi.advanceTimersByTime(999));
    expect(screen.getByText(at(0))).toBeInTheDocument();
    act(() => vi.advanceTimersByTime(1));
    expect(screen.getByText(at(1000))).toBeInTheDocument();
  });
});
