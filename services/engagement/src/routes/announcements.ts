import { Announcement, AnnouncementBody, ErrorBody } from '@dems/contracts';
import { requireSignedIn, type App } from '@dems/kit';
import { sendAnnouncement, type SendAnnouncementDeps } from '../use-cases/send-announcement.js';

export function announcementRoutes(app: App, deps: SendAnnouncementDeps): void {
  app.post(
    '/announcements',
    {
      schema: {
        tags: ['notifications'],
        summary: 'Send a message to everyone registered for or holding a ticket to one of your events',
        description:
          'An event may send ANNOUNCEMENTS_PER_EVENT_PER_HOUR announcements per hour (then 429 RATE_LIMITED with Retry-After) ' +
          'and ANNOUNCEMENTS_PER_EVENT in all (then 409 ANNOUNCEMENT_LIMIT_REACHED).',
        security: [{ bearer: [] }],
        body: AnnouncementBody,
        response: { 201: Announcement, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody, 409: ErrorBody, 429: ErrorBody },
      },
    },
    async (req, reply) => reply.code(201).send(await sendAnnouncement(deps, requireSignedIn(req), req.body)),
  );
}
