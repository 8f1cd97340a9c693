/**
 * When an event is over, decided once for every service and the web app. An event runs from its start up to,
 * not including, its end: from the end instant on it is over, so at that instant nobody can register, buy or
 * hand back a ticket, and it no longer counts as upcoming. Services that disagreed on this once answered the
 * same request 201 in one place and 409 in the other.
 *
 * Stores that filter in their query language (`ends_at > :from`) must keep to the same rule.
 */

type Moment = Date | number;

/** A Date's number is its time value, a number is one already: one conversion for both, no branch. */
const msOf = (moment: Moment): number => Number(moment);

/** Whether the event is over at `now`: true from its end instant on. */
export function hasEnded(event: { endsAt: string }, now: Moment): boolean {
  return msOf(now) >= Date.parse(event.endsAt);
}

/** An event must last some time: one that ends when (or before) it starts would be over before it began. */
export function endsAfterStart(event: { startsAt: string; endsAt: string }): boolean {
  return Date.parse(event.endsAt) > Date.parse(event.startsAt);
}
