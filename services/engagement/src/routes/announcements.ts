import { Announcement, AnnouncementBody, ErrorBody } from '@dems/contracts';
import { AppError, requireSignedIn, type App } from '@dems/kit';
import type { AnnouncementLimits } from '../domain/announcement-limits.js';
import { announcementText } from '../domain/notification-texts.js';
import type { LiveNotifications } from '../live/live-notifications.js';
import type { EngagementStore } from '../store/engagement-store.js';

export function announcementRoutes(app: App, deps: { store: EngagementStore; live: LiveNotifications; limits: AnnouncementLimits }): void {
  app.post(
    '/announcements',
    {
      schema: {
        tags: ['notifications'],
        summary: "Send a message to everyone registered for or holding a ticket to one of your events",
        description:
          'An event may send ANNOUNCEMENTS_PER_EVENT_PER_HOUR announcements per hour (then 429 RATE_LIMITED with Retry-After) ' +
          'and ANNOUNCEMENTS_PER_EVENT in all (then 409 ANNOUNCEMENT_LIMIT_REACHED).',
        security: [{ bearer: [] }],
        body: AnnouncementBody,
        response: { 201: Announcement, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody, 409: ErrorBody, 429: ErrorBody },
      },
    },
    async (req, reply) => {
      const user = requireSignedIn(req);
      const event = await deps.store.getEvent(req.body.eventId);
      if (!event) throw new AppError('EVENT_NOT_FOUND', 'No event with this id.');
      if (event.organizerId !== user.id && user.role !== 'admin') {
        throw new AppError('FORBIDDEN', "Only the event's organizer can send announcements to its audience.");
      }
      const result = await deps.store.createAnnouncement({
        eventId: event.id,
        senderId: user.id,
        message: req.body.message,
        text: announcementText(event, req.body.message),
        limits: deps.limits,
      });
      if (!result) throw new AppError('EVENT_NOT_FOUND', 'No event with this id.');
      deps.live.publish(result.created);
      return reply.code(201).send(result.announcement);
    },
  );
}
