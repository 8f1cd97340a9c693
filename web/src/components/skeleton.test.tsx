import { act, screen } from '@testing-library/react';
import { onlineManager, useQuery } from '@tanstack/react-query';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { apiRequest } from '@/lib/api-client';
import { json, renderApp } from '@/test/render';
import { LoadingCard } from './query-states';
import { CardSkeletons } from './skeleton';

/** A page reading one thing, showing grey lines until it has it. */
function Reading() {
  const read = useQuery({ queryKey: ['thing'], queryFn: () => apiRequest<{ name: string }>('/thing') });
  return read.isPending ? <LoadingCard lines={3} label="Loading the thing…" /> : <h1>{read.data?.name}</h1>;
}

afterEach(() => {
  act(() => onlineManager.setOnline(true));
  vi.unstubAllGlobals();
});

describe('loading while offline', () => {
  it('says the page waits for the connection instead of showing grey lines forever, and loads when it returns', async () => {
    const fakeFetch = vi.fn(async () => json({ name: 'Harbour Lights' }));
    vi.stubGlobal('fetch', fakeFetch);
    act(() => onlineManager.setOnline(false));
    renderApp(<Reading />);
    expect(screen.getByTestId('offline-wait')).toHaveTextContent('You are offline, so this cannot load yet. It will load by itself when your connection returns.');
    expect(fakeFetch).not.toHaveBeenCalled();

    act(() => onlineManager.setOnline(true));
    expect(await screen.findByRole('heading', { name: 'Harbour Lights' })).toBeInTheDocument();
  });

  it('shows the placeholders while online, and says it waits once the connection drops', () => {
    renderApp(<CardSkeletons label="Loading events…" />);
    expect(screen.getByText('Loading events…')).toBeInTheDocument();
    expect(screen.queryByTestId('offline-wait')).toBeNull();
    act(() => onlineManager.setOnline(false));
    expect(screen.getByTestId('offline-wait')).toBeInTheDocument();
  });
});
