import type { Announcement, AnnouncementBody } from '@dems/contracts';
import { AppError, type AuthUser } from '@dems/kit';
import type { z } from 'zod';
import { checkAnnouncementLimits, type AnnouncementLimits } from '../domain/announcement-limits.js';
import { followsEvent } from '../domain/audience.js';
import { announcementText } from '../domain/notification-texts.js';
import type { LiveNotifications } from '../live/live-notifications.js';
import type { EngagementStore } from '../store/engagement-store.js';

export interface SendAnnouncementDeps {
  store: EngagementStore;
  live: Pick<LiveNotifications, 'publish'>;
  limits: AnnouncementLimits;
}

const noSuchEvent = () => new AppError('EVENT_NOT_FOUND', 'No event with this id.');

/**
 * An organizer's (or an admin's) message to everyone following one of their events: refused past the event's
 * limits (checked by the store atomically with the insert, so racing requests cannot together exceed them),
 * stored as one notification per follower, then pushed live.
 */
export async function sendAnnouncement(
  deps: SendAnnouncementDeps,
  sender: Pick<AuthUser, 'id' | 'role'>,
  body: z.infer<typeof AnnouncementBody>,
): Promise<z.infer<typeof Announcement>> {
  const event = await deps.store.getEvent(body.eventId);
  if (!event) throw noSuchEvent();
  if (event.organizerId !== sender.id && sender.role !== 'admin') {
    throw new AppError('FORBIDDEN', "Only the event's organizer can send announcements to its audience.");
  }
  const result = await deps.store.createAnnouncement({
    eventId: event.id,
    senderId: sender.id,
    message: body.message,
    tell: { hears: followsEvent, text: announcementText(event, body.message) },
    admit: (sent, now) => checkAnnouncementLimits(sent, deps.limits, now),
  });
  if (!result) throw noSuchEvent();
  deps.live.publish(result.created);
  return result.announcement;
}
