import { useOnline } from '@/lib/online';

/**
 * What stands in for content that cannot load while the browser is offline: a read waits for the connection
 * (TanStack Query pauses it) and starts by itself when it returns, so the page says that, not "loading".
 */
export function OfflineWait({ compact = false }: { compact?: boolean }) {
  if (compact) return <span role="status">Offline — waiting for the connection…</span>;
  return (
    <div className="alert alert-warning mb-0" role="status" data-testid="offline-wait">
      You are offline, so this cannot load yet. It will load by itself when your connection returns.
    </div>
  );
}

/** Grey placeholder cards in the shape of the content that is loading. */
export function CardSkeletons({ count = 6, label = 'Loading events…' }: { count?: number; label?: string }) {
  const online = useOnline();
  if (!online) return <OfflineWait />;
  return (
    <div role="status" aria-live="polite">
      <span className="visually-hidden">{label}</span>
      <div className="row g-4" aria-hidden="true">
        {Array.from({ length: count }, (_, i) => (
          <div className="col-12 col-sm-6 col-lg-4" key={i}>
            <div className="card h-100 border-0 shadow-sm placeholder-glow">
              <div className="placeholder w-100 rounded-top" style={{ height: 160 }} />
              <div className="card-body">
                <span className="placeholder col-8 mb-2" />
                <span className="placeholder col-6 mb-2" />
                <span className="placeholder col-4" />
              </div>
            </div>
          </div>
        ))}
      </div>
    </div>
  );
}

export function LineSkeletons({ lines = 3, label = 'Loading…' }: { lines?: number; label?: string }) {
  const online = useOnline();
  if (!online) return <OfflineWait />;
  return (
    <div className="placeholder-glow" role="status">
      <span className="visually-hidden">{label}</span>
      {Array.from({ length: lines }, (_, i) => (
        <span key={i} className={`placeholder d-block mb-2 col-${[10, 8, 6][i % 3]}`} aria-hidden="true" />
      ))}
    </div>
  );
}
