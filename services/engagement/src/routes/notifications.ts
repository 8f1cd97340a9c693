import { ErrorBody, IdParams, Notification, NotificationPage, PageQuery, ReadAllResult } from '@dems/contracts';
import { requireSignedIn, type App } from '@dems/kit';
import { NOTIFICATION_RETENTION_DAYS, UNREAD_COUNT_WINDOW, type EngagementStore } from '../store/engagement-store.js';
import { listNotifications, markAllNotificationsRead, markNotificationRead } from '../use-cases/read-notifications.js';

export function notificationRoutes(app: App, deps: { store: EngagementStore }): void {
  app.get(
    '/notifications',
    {
      schema: {
        tags: ['notifications'],
        summary: "The caller's notifications, newest first",
        description: `Pages of \`limit\` with a \`nextCursor\` to pass back for the next. Notifications are kept for ${NOTIFICATION_RETENTION_DAYS} days after they are created; older ones may be gone. \`unreadCount\` counts the unread among the newest ${UNREAD_COUNT_WINDOW} notifications, so it is at most ${UNREAD_COUNT_WINDOW} (the web app shows more than 99 as "99+").`,
        security: [{ bearer: [] }],
        querystring: PageQuery,
        response: { 200: NotificationPage, 400: ErrorBody, 401: ErrorBody },
      },
    },
    async (req) => listNotifications(deps.store, requireSignedIn(req).id, req.query),
  );

  app.post(
    '/notifications/read-all',
    {
      schema: {
        tags: ['notifications'],
        summary: "Mark all the caller's notifications read",
        description: 'Every unread notification, not only the newest 100 that the unread count looks at.',
        security: [{ bearer: [] }],
        response: { 200: ReadAllResult, 401: ErrorBody },
      },
    },
    async (req) => markAllNotificationsRead(deps.store, requireSignedIn(req).id),
  );

  app.post(
    '/notifications/:id/read',
    {
      schema: {
        tags: ['notifications'],
        summary: 'Mark one notification read',
        security: [{ bearer: [] }],
        params: IdParams,
        response: { 200: Notification, 401: ErrorBody, 404: ErrorBody },
      },
    },
    async (req) => markNotificationRead(deps.store, requireSignedIn(req).id, req.params.id),
  );
}
