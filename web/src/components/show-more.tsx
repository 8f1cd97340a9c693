import { Spinner } from './spinner';

/** The part of an infinite query a "Show more" button needs. */
interface PagedList {
  hasNextPage: boolean;
  isFetchingNextPage: boolean;
  fetchNextPage: () => unknown;
}

/** "Show more" under a paged list: shown while the server says more follow, a spinner while the next page loads. */
export function ShowMore({ list, label, loading, className = 'text-center mt-4', small = false }: { list: PagedList; label: string; loading: string; className?: string; small?: boolean }) {
  if (!list.hasNextPage) return null;
  return (
    <div className={className}>
      <button type="button" className={`btn btn-outline-primary${small ? ' btn-sm' : ''}`} onClick={() => void list.fetchNextPage()} disabled={list.isFetchingNextPage}>
        {list.isFetchingNextPage ? <Spinner small label={loading} /> : label}
      </button>
    </div>
  );
}
