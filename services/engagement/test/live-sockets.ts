import type { Socket } from 'socket.io-client';
import { LIVE_NOTIFICATION_EVENT, type Notification } from '@dems/contracts';

/** What the live-socket tests wait for, each bounded in time. */

/** Resolves when the socket connects; rejects with the refusal (its message and data.code) otherwise. */
export const connected = (s: Socket) =>
  new Promise<void>((resolve, reject) => {
    s.once('connect', () => resolve());
    s.once('connect_error', reject);
  });

/** The next notification pushed to the socket. */
export const nextNotification = (s: Socket, withinMs = 2000) =>
  new Promise<Notification>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no notification within ${withinMs} ms`)), withinMs);
    s.once(LIVE_NOTIFICATION_EVENT, (n: Notification) => {
      clearTimeout(timer);
      resolve(n);
    });
  });

/** Why the socket was closed. */
export const disconnected = (s: Socket, withinMs = 3000) =>
  new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`still connected after ${withinMs} ms`)), withinMs);
    s.once('disconnect', (reason) => {
      clearTimeout(timer);
      resolve(reason);
    });
  });
