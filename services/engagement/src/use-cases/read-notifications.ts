import type { Notification, NotificationPage } from '@dems/contracts';
import { AppError, decodeCursor, encodeCursor } from '@dems/kit';
import type { z } from 'zod';
import type { EngagementStore, NotificationCursor } from '../store/engagement-store.js';

const isCursor = (v: unknown): v is NotificationCursor => {
  const c = v as Partial<NotificationCursor> | null;
  return typeof c?.createdAt === 'string' && typeof c.id === 'string';
};

/**
 * One page of the user's own notifications, newest first, with their unread count. `cursor` is a `nextCursor`
 * an earlier page gave (opaque to the client); anything else is refused rather than read as the first page.
 */
export async function listNotifications(store: EngagementStore, userId: string, page: { cursor?: string; limit: number }): Promise<z.infer<typeof NotificationPage>> {
  const after = decodeCursor(page.cursor, isCursor);
  if (page.cursor && !after) throw new AppError('VALIDATION_FAILED', 'The cursor is not valid; pass back a nextCursor you were given.');
  const found = await store.listNotifications(userId, { after, limit: page.limit });
  return { items: found.items, nextCursor: found.next ? encodeCursor(found.next) : null, unreadCount: found.unreadCount };
}

/** Marks one of the user's notifications read; one that is not theirs is as unknown as one that does not exist. */
export async function markNotificationRead(store: EngagementStore, userId: string, notificationId: string): Promise<Notification> {
  const found = await store.markNotificationRead(userId, notificationId);
  if (!found) throw new AppError('NOTIFICATION_NOT_FOUND', 'No notification with this id belongs to you.');
  return found;
}

/** Marks every unread notification of the user read (not only those the unread count looks at); says how many. */
export async function markAllNotificationsRead(store: EngagementStore, userId: string): Promise<{ updated: number }> {
  return { updated: await store.markAllNotificationsRead(userId) };
}
