import { useOnline } from '@/lib/online';
import { OfflineWait } from './skeleton';

/** A centred spinner with a text label for screen readers; offline, it says what it waits for instead. */
export function Spinner({ label = 'Loading…', small = false }: { label?: string; small?: boolean }) {
  const online = useOnline();
  if (!online) return <OfflineWait compact={small} />;
  if (small) return <span className="spinner-border spinner-border-sm" role="status" aria-label={label} />;
  return (
    <div className="d-flex justify-content-center py-5" role="status">
      <span className="spinner-border text-primary" aria-hidden="true" />
      <span className="visually-hidden">{label}</span>
    </div>
  );
}
