import type { ReactNode } from 'react';
import { ErrorAlert } from './error-alert';
import { LineSkeletons } from './skeleton';

/** What a page shows while its data loads: grey lines on a card, `label` read out to screen readers. */
export function LoadingCard({ lines, label }: { lines: number; label: string }) {
  return (
    <div className="bg-white rounded-4 shadow-sm p-4">
      <LineSkeletons lines={lines} label={label} />
    </div>
  );
}

/** A read as these states need it: a TanStack query or infinite query. */
interface Read {
  isPending: boolean;
  isError: boolean;
  error: unknown;
  refetch: () => unknown;
}

interface ListStatesProps {
  list: Read;
  /** Items loaded so far. */
  count: number;
  loading: { lines: number; label: string };
  /** Shown when there is nothing to list (an EmptyState that says what would appear here and how). */
  empty: ReactNode;
  /** The list itself. */
  children: ReactNode;
}

/**
 * A page's list in its four states: loading, failed with nothing to show (the error and Try again), empty, or
 * the items. A failure while items are shown (a refresh, the next page) keeps them; the page says so beside them.
 */
export function ListStates({ list, count, loading, empty, children }: ListStatesProps) {
  if (list.isPending) return <LoadingCard {...loading} />;
  if (list.isError && count === 0) return <ErrorAlert error={list.error} onRetry={() => void list.refetch()} />;
  return <>{count === 0 ? empty : children}</>;
}
