import { useState, type CSSProperties } from 'react';
import type { Event } from '@dems/contracts';
import { coverBackground, coverInitials } from '@/lib/cover';
import { dateChip } from '@/lib/format';

export type CoverEvent = Pick<Event, 'id' | 'title' | 'startsAt' | 'timezone' | 'bannerUrl' | 'bannerSizes'>;

/**
 * How wide the image is drawn, for the browser to pick a rendition from srcset: a card is a third of the
 * container on large screens, half on small ones, the full width on phones; the hero spans the container.
 */
const SIZES = {
  card: '(min-width: 1400px) 416px, (min-width: 992px) 33vw, (min-width: 576px) 50vw, 100vw',
  hero: '(min-width: 1400px) 1296px, 100vw',
} as const;

/**
 * An event's banner, or its generated cover when it has none, with its date chip. The frame has a fixed
 * aspect ratio (CSS), so nothing moves when the image arrives; the generated cover stays underneath as the
 * placeholder while it loads and as the fallback if it fails. Decorative (the title is always beside it), so
 * the image has an empty alt and the whole frame is hidden from screen readers.
 */
export function EventCover({ event, variant, className = '' }: { event: CoverEvent; variant: 'card' | 'hero'; className?: string }) {
  const chip = dateChip(event.startsAt, event.timezone);
  return (
    <div
      className={`event-cover event-cover-${variant} ${className}`}
      style={{ '--cover-background': coverBackground(event.id) } as CSSProperties}
      aria-hidden="true"
      data-testid="event-cover"
    >
      <span className="event-cover-initials">{coverInitials(event.title)}</span>
      {/* Keyed by URL: a replaced banner gets a fresh chance to load. */}
      {event.bannerUrl && <BannerImage key={event.bannerUrl} event={event} variant={variant} />}
      <span className="event-cover-chip">
        <span className="event-cover-month">{chip.month}</span>
        <span className="event-cover-day">{chip.day}</span>
      </span>
    </div>
  );
}

function BannerImage({ event, variant }: { event: CoverEvent; variant: 'card' | 'hero' }) {
  const [failed, setFailed] = useState(false);
  if (failed || !event.bannerUrl) return null;
  const largest = event.bannerSizes.at(-1);
  return (
    <img
      className="event-cover-img"
      src={event.bannerUrl}
      srcSet={event.bannerSizes.map((s) => `${s.url} ${s.width}w`).join(', ') || undefined}
      sizes={SIZES[variant]}
      width={largest?.width}
      height={largest?.height}
      alt=""
      // Cards below the fold wait until they are scrolled near; the hero is the page's main image, so it loads at once.
      loading={variant === 'card' ? 'lazy' : 'eager'}
      decoding="async"
      onError={() => setFailed(true)}
      data-testid="event-banner"
    />
  );
}
