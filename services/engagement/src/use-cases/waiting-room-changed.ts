import type { Message } from '@dems/contracts';
import type { LiveWaitingRooms } from '../live/waiting-rooms.js';

/**
 * WaitingRoomChanged: the room's new settings go to the sockets watching it. Nothing is stored (ticketing owns
 * the rooms; live/waiting-rooms.ts keeps the latest in memory), so a redelivery pushes the same settings again.
 */
export function waitingRoomChanged(rooms: Pick<LiveWaitingRooms, 'changed'>, message: Message<'WaitingRoomChanged'>): null {
  rooms.changed(message);
  return null;
}
