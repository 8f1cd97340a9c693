import type { QueuePlace } from '@/features/waiting-room/model';

/**
 * A buyer's place per event, in sessionStorage: a reload keeps it (and the pass), closing the tab forgets it.
 * Per tab rather than per browser, as a place is a person at a screen; the server binds tokens to the user anyway.
 */
const key = (eventId: string) => `dems.waiting-room.${eventId}`;

export function loadPlace(eventId: string, userId: string | null): QueuePlace | null {
  if (!userId) return null;
  try {
    const raw = sessionStorage.getItem(key(eventId));
    if (!raw) return null;
    const place = JSON.parse(raw) as QueuePlace;
    return place.userId === userId && place.entry?.token ? place : null;
  } catch {
    return null;
  }
}

export function savePlace(eventId: string, place: QueuePlace | null): void {
  try {
    if (place) sessionStorage.setItem(key(eventId), JSON.stringify(place));
    else sessionStorage.removeItem(key(eventId));
  } catch {
    // Storage full or disabled (private mode): the place still lives in memory for this page.
  }
}
