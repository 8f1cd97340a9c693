import { describe, expect, it } from 'vitest';
import { heldTicketIds } from '../src/domain/audience.js';
import {
  announcementText,
  eventCancelledText,
  eventUpdatedText,
  formatMoney,
  joinList,
  orderConfirmedText,
  registrationConfirmedText,
  registrationWithdrawnText,
  ticketCancelledText,
} from '../src/domain/notification-texts.js';

const jazz = { id: 'evt_jazz', title: 'Jazz Night' };

describe('notification texts', () => {
  it('formats money by currency and survives an unknown code', () => {
    expect(formatMoney(2500, 'USD')).toBe('$25.00');
    expect(formatMoney(1250, 'EUR')).toBe('€12.50');
    expect(formatMoney(100, 'X1')).toBe('1.00 X1');
  });

  it('joins lists the way people write them', () => {
    expect(joinList([])).toBe('');
    expect(joinList(['a'])).toBe('a');
    expect(joinList(['a', 'b'])).toBe('a and b');
    expect(joinList(['a', 'b', 'c'])).toBe('a, b and c');
  });

  it('describes an event change in words', () => {
    expect(eventUpdatedText(jazz, ['startsAt', 'venue'])).toEqual({
      type: 'event_updated',
      title: 'Jazz Night has changed',
      body: 'Start time and venue changed. Have a look at the event page for the latest details.',
      eventId: 'evt_jazz',
    });
    expect(eventUpdatedText(jazz, ['startsAt', 'endsAt', 'timezone']).body).toMatch(/^Start time, end time and time zone changed\./);
    expect(eventUpdatedText(jazz, []).body).toMatch(/^Some details changed\./);
  });

  it('announces a cancellation with the refund promise', () => {
    expect(eventCancelledText(jazz)).toMatchObject({
      type: 'event_cancelled',
      title: 'Jazz Night is cancelled',
      body: 'The organizer cancelled Jazz Night. Any tickets you held are cancelled and fully refunded.',
    });
  });

  it('confirms orders in singular and plural', () => {
    const base = { eventId: 'evt_jazz', eventTitle: 'Jazz Night' };
    expect(orderConfirmedText({ ...base, quantity: 2 })).toMatchObject({
      type: 'order_confirmed',
      title: 'Order confirmed',
      body: 'Your 2 tickets for Jazz Night are confirmed.',
    });
    expect(orderConfirmedText({ ...base, quantity: 1 }).body).toBe('Your ticket for Jazz Night is confirmed.');
  });

  it('tells what a cancelled ticket refunds', () => {
    const base = { eventId: 'evt_jazz', eventTitle: 'Jazz Night', currency: 'USD' };
    expect(ticketCancelledText({ ...base, refundCents: 2500 })).toMatchObject({
      title: 'Ticket cancelled',
      body: 'Your ticket for Jazz Night was cancelled; $25.00 will be refunded.',
    });
    expect(ticketCancelledText({ ...base, refundCents: 0 }).body).toBe('Your ticket for Jazz Night was cancelled.');
  });

  it('words registrations and announcements', () => {
    expect(registrationConfirmedText('evt_jazz', 'Jazz Night').title).toBe("You're registered for Jazz Night");
    expect(registrationWithdrawnText('evt_jazz', 'Jazz Night')).toMatchObject({ title: 'Registration withdrawn', eventId: 'evt_jazz' });
    expect(registrationWithdrawnText('evt_jazz', 'Jazz Night').body).toContain("You're no longer registered for Jazz Night.");
    expect(announcementText(jazz, 'Doors at 7')).toEqual({
      type: 'announcement',
      title: 'Message from the organizer of Jazz Night',
      body: 'Doors at 7',
      eventId: 'evt_jazz',
    });
  });
});

describe('audience', () => {
  it('names each ticket of an order by the order and its place in it, the same on every delivery', () => {
    expect(heldTicketIds('ord_1', 3)).toEqual(['ord_1#0', 'ord_1#1', 'ord_1#2']);
    expect(heldTicketIds('ord_1', 3)).toEqual(heldTicketIds('ord_1', 3));
    expect(heldTicketIds('ord_2', 1)).toEqual(['ord_2#0']);
    expect(heldTicketIds('ord_3', 0)).toEqual([]);
  });
});
