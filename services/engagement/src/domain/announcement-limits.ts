import { AppError, rateLimited } from '@dems/kit';

/** How many announcements one event may send: enough for real news, too few to spam its audience. */
export interface AnnouncementLimits {
  perEventPerHour: number;
  perEventTotal: number;
}

export const DEFAULT_ANNOUNCEMENT_LIMITS: AnnouncementLimits = { perEventPerHour: 10, perEventTotal: 100 };

const HOUR_MS = 3600_000;

/** The announcements an event has sent: how many in all, and when the recent ones went out. */
export interface AnnouncementsSent {
  total: number;
  /** Creation times (ISO) of at least those sent within the last hour. */
  recent: string[];
}

/** The recent times still inside the hour before `now`: what the hourly limit counts. */
export const withinLastHour = (times: string[], now: number): string[] => times.filter((t) => Date.parse(t) > now - HOUR_MS);

/**
 * Refuses one more announcement when the event has used up its total (409 ANNOUNCEMENT_LIMIT_REACHED: waiting
 * does not help) or its hour (429 RATE_LIMITED, Retry-After until the oldest of the hour's falls out of it).
 */
export function checkAnnouncementLimits(sent: AnnouncementsSent, limits: AnnouncementLimits, now: number): void {
  if (sent.total >= limits.perEventTotal) {
    throw new AppError(
      'ANNOUNCEMENT_LIMIT_REACHED',
      `This event has already sent ${limits.perEventTotal} announcements, the most one event can send. Its attendees can still be reached through event updates.`,
    );
  }
  const recent = withinLastHour(sent.recent, now);
  if (recent.length >= limits.perEventPerHour) {
    const oldest = Math.min(...recent.map((t) => Date.parse(t)));
    throw rateLimited(`This event has sent ${limits.perEventPerHour} announcements in the last hour, the most it can send per hour.`, (oldest + HOUR_MS - now) / 1000);
  }
}
