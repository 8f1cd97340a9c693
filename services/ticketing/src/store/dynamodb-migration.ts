// eslint-disable-next-line no-restricted-imports -- part of the DynamoDB adapter: a one-off copy needs Scan and conditional Puts
import { PutCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { batchGet, createDynamo, isConditionalCheckFailed, withRetry, type Doc, type DynamoSettings, type Item } from '@dems/kit/dynamodb';
import { orderStateFor } from '../domain/purchase.js';
import { ticketingTables } from './dynamodb.js';

/**
 * Moves ticketing's data from the tables of earlier versions (TicketingEvents, Inventory, Orders, with the
 * tickets' ByUser/ValidByEvent indexes) into the Ticketing table, for a deployment that upgrades in place:
 * event copies to `event#<id>`/`copy`, shards to `shard#<ShardID>`/`shard`, and every order, with what its
 * tickets record (type name, price, shard, cancellation times), into its buyer's partition. Tickets stay where
 * they are (same table, same key). Every Put is conditioned on the item not existing yet, so running it again,
 * or after the new version has started writing, changes nothing that is already there.
 *
 * Not carried over: IdempotencyKeys. A retry of a purchase made before the upgrade (a client retries within
 * seconds) is the one thing the copy cannot deduplicate; stop purchases during the copy to rule it out.
 */
export async function migrateTicketingTables(settings: DynamoSettings, log: (line: string) => void = () => {}): Promise<{ events: number; shards: number; orders: number }> {
  const { client, doc } = createDynamo(settings);
  const prefix = settings.tablePrefix;
  const target = ticketingTables(prefix).ticketing.name;
  const tickets = ticketingTables(prefix).tickets.name;
  try {
    const events = await copyAll(doc, `${prefix}TicketingEvents`, target, (i) => ({ ...i, PK: `event#${String(i.EventID)}`, SK: 'copy' }));
    log(`copied ${events} event copies`);
    const shards = await copyAll(doc, `${prefix}Inventory`, target, (i) => ({ ...i, PK: `shard#${String(i.ShardID)}`, SK: 'shard' }));
    log(`copied ${shards} inventory shards`);
    let orders = 0;
    await scanPages(doc, `${prefix}Orders`, async (page) => {
      for (const order of page) {
        const list = (order.TicketList ?? []) as { id: string; code: string }[];
        const items = new Map(
          (
            await batchGet(
              doc,
              tickets,
              list.map((t) => ({ TicketID: t.id })),
            )
          ).map((t) => [String(t.TicketID), t]),
        );
        await putIfAbsent(doc, target, orderItem(order, list, items));
        orders++;
      }
    });
    log(`copied ${orders} orders`);
    return { events, shards, orders };
  } finally {
    client.destroy();
  }
}

/** An order of the Orders table as the Ticketing table holds it (see DynamoTicketingStore). */
export function orderItem(order: Item, list: { id: string; code: string }[], tickets: Map<string, Item>): Item {
  const cancelled = (order.CancelledTickets as Set<string> | undefined) ?? new Set<string>();
  const first = tickets.get(list[0]?.id ?? '');
  const shardOf = (id: string) =>
    Number(
      String(tickets.get(id)?.ShardID ?? '#0')
        .split('#')
        .at(-1),
    );
  const cancelledAt = Object.fromEntries(list.filter((t) => cancelled.has(t.id)).map((t) => [t.id, String(tickets.get(t.id)?.CancelledAt ?? order.CreatedAt)]));
  const valid = list.find((t) => !cancelled.has(t.id));
  const { SortKey: _sortKey, TicketList: _ticketList, ...rest } = order;
  return {
    ...rest,
    PK: `user#${String(order.UserID)}`,
    SK: `order#${String(order.OrderID)}`,
    TicketTypeName: String(first?.TicketTypeName ?? ''),
    PriceCents: Number(first?.PriceCents ?? Math.round(Number(order.TotalCents) / Math.max(1, Number(order.Quantity)))),
    // Items from before RefundStatus get both states from what they record, as the store would read them.
    ...(order.RefundStatus === undefined
      ? orderStateFor({ quantity: Number(order.Quantity), cancelledTickets: cancelled.size, totalCents: Number(order.TotalCents), refundedCents: Number(order.RefundedCents) })
      : {}),
    Tickets: list.map((t) => ({ id: t.id, code: t.code, shard: shardOf(t.id) })),
    ...(Object.keys(cancelledAt).length ? { CancelledAt: cancelledAt } : {}),
    ...(valid ? { ValidShard: String(tickets.get(valid.id)?.ShardID ?? `${String(order.TicketTypeID)}#0`) } : {}),
  };
}

async function copyAll(doc: Doc, from: string, to: string, convert: (item: Item) => Item): Promise<number> {
  let n = 0;
  await scanPages(doc, from, async (page) => {
    for (const item of page) {
      await putIfAbsent(doc, to, convert(item));
      n++;
    }
  });
  return n;
}

/** Every item of a table, a page at a time; a table that is not there has nothing to copy. */
async function scanPages(doc: Doc, table: string, onPage: (items: Item[]) => Promise<void>): Promise<void> {
  let start: Item | undefined;
  do {
    let page;
    try {
      page = await withRetry(() => doc.send(new ScanCommand({ TableName: table, ExclusiveStartKey: start, ConsistentRead: true })));
    } catch (err) {
      if ((err as Error).name === 'ResourceNotFoundException') return;
      throw err;
    }
    await onPage((page.Items ?? []) as Item[]);
    start = page.LastEvaluatedKey as Item | undefined;
  } while (start);
}

async function putIfAbsent(doc: Doc, table: string, item: Item): Promise<void> {
  try {
    await withRetry(() => doc.send(new PutCommand({ TableName: table, Item: item, ConditionExpression: 'attribute_not_exists(PK)' })));
  } catch (err) {
    if (!isConditionalCheckFailed(err)) throw err;
  }
}
