import { useLive } from '@/lib/live';

/** Says so while live updates are down; Socket.IO reconnects by itself and the banner then disappears. */
export function ConnectionBanner() {
  const { status } = useLive();
  if (status !== 'down') return null;
  return (
    <div className="connection-banner py-2" role="status" data-testid="connection-banner">
      <div className="container d-flex align-items-center gap-2 small">
        <span className="spinner-grow spinner-grow-sm" aria-hidden="true" />
        <span>Live updates are paused — reconnecting… Everything you do still works.</span>
      </div>
    </div>
  );
}
