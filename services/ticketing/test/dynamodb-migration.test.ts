import { PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { ensureTables, type TableSpec } from '@dems/kit/dynamodb';
import { describeEachAdapter, onDynamoDbLocal } from '@dems/kit/testing';
import { DynamoTicketingStore } from '../src/store/dynamodb.js';
import { migrateTicketingTables } from '../src/store/dynamodb-migration.js';
import { cancelled, eventSnapshot, ticketType } from './fixtures.js';
import { eventChange } from '../src/use-cases/apply-event-changes.js';
import { byAttendee } from '../src/use-cases/cancel-tickets.js';

/** The tables of the version before the Ticketing table, as it created them. */
const previousTables = (prefix: string): TableSpec[] => [
  { name: `${prefix}TicketingEvents`, pk: { name: 'EventID', type: 'S' } },
  { name: `${prefix}Inventory`, pk: { name: 'ShardID', type: 'S' } },
  { name: `${prefix}Orders`, pk: { name: 'OrderID', type: 'S' }, indexes: [{ name: 'ByUser', pk: { name: 'UserID', type: 'S' }, sk: { name: 'SortKey', type: 'S' } }] },
  {
    name: `${prefix}Tickets`,
    pk: { name: 'TicketID', type: 'S' },
    indexes: [
      { name: 'ByUser', pk: { name: 'UserID', type: 'S' }, sk: { name: 'SortKey', type: 'S' } },
      { name: 'ValidByEvent', pk: { name: 'ValidEventID', type: 'S' }, sk: { name: 'TicketID', type: 'S' } },
    ],
  },
];

const EVENT = eventSnapshot({ ticketTypes: [ticketType({ capacity: 100 })] });
const at = (minute: number) => `2029-01-01T10:${String(minute).padStart(2, '0')}:00.000Z`;
const CODE = (n: number) => `DEMS-AAAA-BBBB-CCCC-${String(n).padStart(4, '2')}`;

/** Items as the previous version wrote them: three orders, one partly cancelled, one from before RefundStatus. */
function previousItems(prefix: string): [string, Record<string, unknown>][] {
  const ticket = (id: string, orderId: string, userId: string, shard: number, minute: number, cancelledAt?: string) => ({
    TicketID: id,
    Code: CODE(Number(id.slice(-1))),
    OrderID: orderId,
    UserID: userId,
    SortKey: `${at(minute)}#x`,
    EventID: EVENT.id,
    ...(cancelledAt ? { CancelledAt: cancelledAt } : { ValidEventID: EVENT.id }),
    TicketTypeID: 'tt_ga',
    TicketTypeName: 'General admission',
    ShardID: `tt_ga#${shard}`,
    PriceCents: 2500,
    Currency: 'USD',
    Status: cancelledAt ? 'cancelled' : 'valid',
    CreatedAt: at(minute),
  });
  const order = (id: string, userId: string, minute: number, tickets: string[], extra: Record<string, unknown>) => ({
    OrderID: id,
    UserID: userId,
    SortKey: `${at(minute)}#x`,
    EventID: EVENT.id,
    TicketTypeID: 'tt_ga',
    Quantity: tickets.length,
    TotalCents: 2500 * tickets.length,
    RefundedCents: 0,
    Currency: 'USD',
    Status: 'confirmed',
    RefundStatus: 'none',
    CreatedAt: at(minute),
    TicketList: tickets.map((t) => ({ id: t, code: CODE(Number(t.slice(-1))) })),
    ...extra,
  });
  return [
    [
      `${prefix}TicketingEvents`,
      {
        EventID: EVENT.id,
        OrganizerID: EVENT.organizerId,
        Title: EVENT.title,
        Venue: EVENT.venue,
        Timezone: EVENT.timezone,
        StartsAt: EVENT.startsAt,
        EndsAt: EVENT.endsAt,
        Status: 'published',
        Version: 1,
        TicketTypes: [{ id: 'tt_ga', name: 'General admission', priceCents: 2500, currency: 'USD', capacity: 100, position: 0, active: true, shards: 2 }],
        UpdatedAt: at(0),
      },
    ],
    ...[0, 1].map((n): [string, Record<string, unknown>] => [
      `${prefix}Inventory`,
      {
        ShardID: `tt_ga#${n}`,
        EventID: EVENT.id,
        TicketTypeID: 'tt_ga',
        Shard: n,
        Capacity: 50,
        CapVer: 1,
        Sold: n === 0 ? 2 : 1,
        OnSale: true,
        Def: 1,
        Name: 'General admission',
        PriceCents: 2500,
        Currency: 'USD',
      },
    ]),
    [
      `${prefix}Orders`,
      order('ord_m1aaaa', 'usr_ann', 1, ['tkt_1', 'tkt_2'], { RefundedCents: 2500, Status: 'partially_cancelled', RefundStatus: 'partial', CancelledTickets: new Set(['tkt_1']) }),
    ],
    [`${prefix}Tickets`, ticket('tkt_1', 'ord_m1aaaa', 'usr_ann', 0, 1, at(5))],
    [`${prefix}Tickets`, ticket('tkt_2', 'ord_m1aaaa', 'usr_ann', 0, 1)],
    // Written before RefundStatus existed: a money-only Status.
    [`${prefix}Orders`, (({ RefundStatus: _, ...o }) => o)(order('ord_m1bbbb', 'usr_ann', 2, ['tkt_3'], {}))],
    [`${prefix}Tickets`, ticket('tkt_3', 'ord_m1bbbb', 'usr_ann', 1, 2)],
    [`${prefix}Orders`, order('ord_m1cccc', 'usr_bob', 3, ['tkt_4'], {})],
    [`${prefix}Tickets`, ticket('tkt_4', 'ord_m1cccc', 'usr_bob', 0, 3)],
  ];
}

describeEachAdapter('moving DynamoDB data from the separate tables of the previous version', onDynamoDbLocal, (h) => {
  let s: { region: string; endpoint: string; tablePrefix: string };
  let store: DynamoTicketingStore;

  beforeEach(async () => {
    s = { region: 'us-east-1', endpoint: h.store.endpoint!, tablePrefix: h.store.tablePrefix };
    store = new DynamoTicketingStore({ settings: s, shards: 2 });
    const client = (store as unknown as { dynamo: { client: Parameters<typeof ensureTables>[0] } }).dynamo.client;
    await ensureTables(client, previousTables(s.tablePrefix));
    const doc = (store as unknown as { doc: DynamoDBDocumentClient }).doc;
    for (const [TableName, Item] of previousItems(s.tablePrefix)) await doc.send(new PutCommand({ TableName, Item }));
    await store.createTables();
    const lines: string[] = [];
    expect(await migrateTicketingTables(s, (l) => lines.push(l))).toEqual({ events: 1, shards: 2, orders: 3 });
    expect(lines).toEqual(['copied 1 event copies', 'copied 2 inventory shards', 'copied 3 orders']);
  });
  afterEach(async () => {
    await store.close();
  });

  it('serves the copied orders, tickets and seats as if they had been written by this version', async () => {
    const orders = (await store.listOrders('usr_ann', { limit: 10 })).items;
    expect(orders.map((o) => [o.id, o.status, o.refundStatus, o.refundedCents, o.eventTitle])).toEqual([
      ['ord_m1bbbb', 'confirmed', 'none', 0, 'Jazz Night'],
      ['ord_m1aaaa', 'partially_cancelled', 'partial', 2500, 'Jazz Night'],
    ]);
    expect(orders[1]!.tickets).toEqual([
      { id: 'tkt_1', code: CODE(1), status: 'cancelled' },
      { id: 'tkt_2', code: CODE(2), status: 'valid' },
    ]);
    const tickets = (await store.listTickets('usr_ann', { limit: 10 })).items;
    expect(tickets.map((t) => [t.id, t.status, t.cancelledAt, t.ticketTypeName, t.priceCents])).toEqual([
      ['tkt_3', 'valid', null, 'General admission', 2500],
      ['tkt_2', 'valid', null, 'General admission', 2500],
      ['tkt_1', 'cancelled', at(5), 'General admission', 2500],
    ]);
    expect((await store.getAvailability(EVENT.id))?.ticketTypes[0]).toMatchObject({ capacity: 100, sold: 3 });

    // A copied ticket is cancelled on the shard it came from; the event's cancellation finds the rest by shard.
    await store.cancelTicket('usr_ann', 'tkt_3', byAttendee());
    expect((await store.getAvailability(EVENT.id))?.ticketTypes[0]).toMatchObject({ sold: 2 });
    const gone = { ...EVENT, version: 2, status: 'cancelled' as const };
    await store.applyEventSnapshot(eventChange(cancelled(gone), gone));
    expect((await store.getAvailability(EVENT.id))?.ticketTypes[0]).toMatchObject({ sold: 0 });
    expect((await store.getOrder('usr_bob', 'ord_m1cccc'))?.status).toBe('cancelled');
    expect(await store.getOrder('usr_ann', 'ord_m1aaaa')).toMatchObject({ status: 'cancelled', refundStatus: 'full', refundedCents: 5000 });
  });

  it('changes nothing when run again, even after the new version has written', async () => {
    await store.cancelTicket('usr_ann', 'tkt_3', byAttendee());
    expect(await migrateTicketingTables(s)).toEqual({ events: 1, shards: 2, orders: 3 });
    expect((await store.getOrder('usr_ann', 'ord_m1bbbb'))?.status).toBe('cancelled');
    expect((await store.getAvailability(EVENT.id))?.ticketTypes[0]).toMatchObject({ sold: 2 });
  });
});
