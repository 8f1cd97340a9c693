import { coverGradient } from '../lib/cover';
import { dateChip } from '../lib/format';

/** The generated cover for an event (there is no banner upload yet), with its date chip. Decorative. */
export function EventCover({ id, title, startsAt, timezone, height = 160, className = '' }: { id: string; title: string; startsAt: string; timezone: string; height?: number; className?: string }) {
  const chip = dateChip(startsAt, timezone);
  return (
    <div className={`event-cover ${className}`} style={{ background: coverGradient(id), minHeight: height }} aria-hidden="true">
      <span className="event-cover-initial">{title.trim().charAt(0).toUpperCase()}</span>
      <span className="event-cover-chip">
        <span className="event-cover-month">{chip.month}</span>
        <span className="event-cover-day">{chip.day}</span>
      </span>
    </div>
  );
}
