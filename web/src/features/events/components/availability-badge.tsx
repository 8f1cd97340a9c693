import type { Availability } from '@dems/contracts';

/** Total seats left across ticket types, or null while unknown. */
export function remainingTotal(availability: Availability | undefined): number | null {
  if (!availability) return null;
  return availability.ticketTypes.reduce((sum, t) => sum + Math.max(t.remaining, 0), 0);
}

/** "Sold out", "Only 3 left" or "120 left" — the live seat count as a badge. */
export function RemainingBadge({ remaining, cancelled = false, className = '' }: { remaining: number | null; cancelled?: boolean; className?: string }) {
  if (cancelled) return <span className={`badge text-bg-danger ${className}`}>Cancelled</span>;
  if (remaining === null) return null;
  if (remaining <= 0) return <span className={`badge text-bg-dark ${className}`}>Sold out</span>;
  if (remaining <= 10) return <span className={`badge badge-hot ${className}`}>Only {remaining} left</span>;
  return <span className={`badge badge-soft ${className}`}>{remaining} left</span>;
}
