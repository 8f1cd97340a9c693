import { useIsFetching, useIsMutating } from '@tanstack/react-query';
import { isBusy } from '@/lib/retry-policy';

/**
 * Says so, calmly, while the app is repeating a request that DEMS answered "busy, try again" (or did not answer):
 * the page keeps its place and fills in when an answer comes, instead of showing an error.
 */
export function BusyBanner() {
  const reading = useIsFetching({ predicate: (q) => q.state.fetchFailureCount > 0 && isBusy(q.state.fetchFailureReason) });
  const changing = useIsMutating({ predicate: (m) => m.state.failureCount > 0 && isBusy(m.state.failureReason) });
  if (reading + changing === 0) return null;
  return (
    <div className="connection-banner py-2" role="status" data-testid="busy-banner">
      <div className="container d-flex align-items-center gap-2 small">
        <span className="spinner-grow spinner-grow-sm" aria-hidden="true" />
        <span>DEMS is busy right now — retrying…</span>
      </div>
    </div>
  );
}
