import { useLive } from '@/lib/live';
import { useOnline } from '@/lib/online';

/**
 * Says what works while the connection is not whole. Offline (the browser says so), pages already open stay
 * readable but nothing new loads and no change can be sent; reads start again by themselves when it returns.
 * Online with the live connection down, requests still go through but counts and notifications do not update by
 * themselves until Socket.IO reconnects, which it does on its own; the banner then disappears.
 */
export function ConnectionBanner() {
  const { status } = useLive();
  const online = useOnline();
  if (online && status !== 'down') return null;
  return (
    <div className="connection-banner py-2" role="status" data-testid="connection-banner">
      <div className="container d-flex align-items-center gap-2 small">
        <span className="spinner-grow spinner-grow-sm flex-shrink-0" aria-hidden="true" />
        {online ? (
          <span>Live updates are paused — reconnecting… Until then, seats left and notifications may be out of date: reload a page to see the latest.</span>
        ) : (
          <span>
            <strong>You are offline.</strong> What is already on screen stays readable, but new pages cannot load and buying, registering or saving cannot be sent. Pages waiting to
            load will carry on by themselves when you are back online.
          </span>
        )}
      </div>
    </div>
  );
}
