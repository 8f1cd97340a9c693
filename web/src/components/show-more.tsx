import { ErrorAlert } from './error-alert';
import { Spinner } from './spinner';

/** The part of a TanStack infinite query that "Show more" needs. */
interface PagedList {
  hasNextPage: boolean;
  isFetchingNextPage: boolean;
  isFetchNextPageError: boolean;
  error: unknown;
  fetchNextPage: () => unknown;
}

interface ShowMoreProps {
  list: PagedList;
  /** The button's text, naming what comes next ("Show more tickets"). */
  label: string;
  /** Read out while the next page loads. */
  loading: string;
  className?: string;
  small?: boolean;
}

/**
 * The foot of every paged list: "Show more" while the server says more follow, a spinner while the next page
 * loads, and when it fails, the error with Try again in the button's place (the items already shown stay).
 */
export function ShowMore({ list, label, loading, className = 'text-center mt-4', small = false }: ShowMoreProps) {
  const loadNext = () => void list.fetchNextPage();
  if (!list.isFetchNextPageError && !list.hasNextPage) return null;
  return (
    <div className={className}>
      {list.isFetchNextPageError ? (
        <ErrorAlert className="text-start mb-0" error={list.error} onRetry={loadNext} />
      ) : (
        <button type="button" className={`btn btn-outline-primary${small ? ' btn-sm' : ''}`} onClick={loadNext} disabled={list.isFetchingNextPage}>
          {list.isFetchingNextPage ? <Spinner small label={loading} /> : label}
        </button>
      )}
    </div>
  );
}
