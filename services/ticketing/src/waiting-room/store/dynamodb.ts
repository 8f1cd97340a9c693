import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Message, WaitingRoomSettings } from '@dems/contracts';
import {
  attrNames,
  batchGet,
  ConditionFailed,
  createDynamo,
  fullJitter,
  getItem,
  isConditionalCheckFailed,
  withRetry,
  type Doc,
  type Dynamo,
  type DynamoDbMessaging,
  type DynamoSettings,
  type Item,
  type TransactItem,
} from '@dems/kit/dynamodb';
import { idempotentTicketId, ticketingTables } from '../../store/dynamodb.js';
import { isSpent, placeFor } from '../bucket.js';
import type { JoinResult, PassOutcome, QueuePlace, StoredRoom, WaitingRoomStore } from './waiting-room-store.js';

/**
 * Items in ticketing's single table, one partition per room: `room#<eventId>` / `room` holds the settings and the
 * chain's head (Joined, LastAdmitAt); `room#<eventId>` / `entry#<userId>` one user's place. A deleted room keeps
 * its item (Active false) and its head, so queueing the sale again continues the chain.
 */
/** Ticketing's copy of an event (services/ticketing/src/store/dynamodb.ts): it holds the OrganizerID. */
const eventKey = (eventId: string) => ({ PK: `event#${eventId}`, SK: 'copy' });
const roomKey = (eventId: string) => ({ PK: `room#${eventId}`, SK: 'room' });
const entryKey = (eventId: string, userId: string) => ({ PK: `room#${eventId}`, SK: `entry#${userId}` });

/** Joins that lose the race for the head this many times in a row give up (a 5xx the client retries). */
const MAX_JOIN_ATTEMPTS = 60;

const toRoom = (eventId: string, i: Item): StoredRoom => ({
  eventId,
  settings: { opensAt: String(i.OpensAt), admitPerMinute: Number(i.AdmitPerMinute), passMinutes: Number(i.PassMinutes) },
  joined: Number(i.Joined ?? 0),
  lastAdmitAtMs: Number(i.LastAdmitAt ?? 0),
});
const toPlace = (i: Item): QueuePlace => ({
  position: Number(i.Position),
  admitAtMs: Number(i.AdmitAt),
  passExpiresAtMs: i.PassExpiresAt === undefined ? null : Number(i.PassExpiresAt),
});

export interface DynamoWaitingRoomOptions {
  settings: DynamoSettings;
  /**
   * The ticketing store's own outbox: entries committed through it are handed to this process's relay at once
   * (a separate one would leave them to the slow sweep).
   */
  outbox: DynamoDbMessaging;
  onMessagesCommitted?: () => void;
}

/**
 * Waiting rooms on DynamoDB. A join is one TransactWriteItems: the head's conditional update (Joined must still
 * be what was read) and the place's Put (no live place may exist). A join that loses the race reads again and
 * retries with jitter, so positions stay unique and in commit order across replicas.
 */
export class DynamoWaitingRoomStore implements WaitingRoomStore {
  private readonly dynamo: Dynamo;
  private readonly table: string;
  private readonly ticketsTable: string;

  constructor(private readonly opts: DynamoWaitingRoomOptions) {
    this.dynamo = createDynamo(opts.settings);
    const tables = ticketingTables(opts.settings.tablePrefix);
    this.table = tables.ticketing.name;
    this.ticketsTable = tables.tickets.name;
  }

  private get doc(): Doc {
    return this.dynamo.doc;
  }

  private async commit(items: TransactItem[]): Promise<void> {
    await this.opts.outbox.commit(items);
    this.opts.onMessagesCommitted?.();
  }

  async eventOrganizer(eventId: string): Promise<string | null> {
    const item = await getItem(this.doc, this.table, eventKey(eventId));
    return item ? String(item.OrganizerID) : null;
  }

  async getRoom(eventId: string): Promise<StoredRoom | null> {
    const item = await getItem(this.doc, this.table, roomKey(eventId));
    return item && item.Active === true ? toRoom(eventId, item) : null;
  }

  async setRoom(eventId: string, settings: WaitingRoomSettings, changed: Message): Promise<StoredRoom> {
    const update = 'SET #OpensAt = :o, #AdmitPerMinute = :r, #PassMinutes = :p, #Active = :t, #Joined = if_not_exists(#Joined, :z), #LastAdmitAt = if_not_exists(#LastAdmitAt, :z)';
    await this.commit([
      {
        Update: {
          TableName: this.table,
          Key: roomKey(eventId),
          UpdateExpression: update,
          ExpressionAttributeNames: attrNames(update),
          ExpressionAttributeValues: { ':o': settings.opensAt, ':r': settings.admitPerMinute, ':p': settings.passMinutes, ':t': true, ':z': 0 },
        },
      },
      ...this.opts.outbox.outboxPuts(changed),
    ]);
    return (await this.getRoom(eventId))!;
  }

  async deleteRoom(eventId: string, changed: Message): Promise<boolean> {
    const update = 'SET #Active = :f';
    const condition = '#Active = :t';
    try {
      await this.commit([
        {
          Update: {
            TableName: this.table,
            Key: roomKey(eventId),
            UpdateExpression: update,
            ConditionExpression: condition,
            ExpressionAttributeNames: attrNames(update, condition),
            ExpressionAttributeValues: { ':f': false, ':t': true },
          },
        },
        ...this.opts.outbox.outboxPuts(changed),
      ]);
      return true;
    } catch (err) {
      if (err instanceof ConditionFailed) return false;
      throw err;
    }
  }

  async join(eventId: string, userId: string, now: Date): Promise<JoinResult | null> {
    for (let attempt = 0; ; attempt++) {
      const items = await batchGet(this.doc, this.table, [roomKey(eventId), entryKey(eventId, userId)]);
      const roomItem = items.find((i) => i.SK === 'room');
      if (!roomItem || roomItem.Active !== true) return null;
      const room = toRoom(eventId, roomItem);
      const heldItem = items.find((i) => i.SK !== 'room');
      const held = heldItem && toPlace(heldItem);
      const joined = placeFor(room, held, now.getTime());
      if (!joined.created) return joined;
      try {
        await this.commit(this.joinItems(eventId, userId, room, joined.place, held));
        return joined;
      } catch (err) {
        if (!(err instanceof ConditionFailed) || attempt + 1 >= MAX_JOIN_ATTEMPTS) throw err;
        await new Promise((r) => setTimeout(r, fullJitter(attempt, 5, 200)));
      }
    }
  }

  /** The head moves only from what was read; the place is new, or replaces exactly the spent one that was read. */
  private joinItems(eventId: string, userId: string, room: StoredRoom, place: QueuePlace, spent: QueuePlace | undefined): TransactItem[] {
    const head = 'SET #Joined = :n, #LastAdmitAt = :a';
    const headCondition = '#Joined = :prev AND #Active = :t';
    const placeCondition = spent ? '#Position = :old' : 'attribute_not_exists(PK)';
    return [
      {
        Update: {
          TableName: this.table,
          Key: roomKey(eventId),
          UpdateExpression: head,
          ConditionExpression: headCondition,
          ExpressionAttributeNames: attrNames(head, headCondition),
          ExpressionAttributeValues: { ':n': place.position, ':a': place.admitAtMs, ':prev': room.joined, ':t': true },
        },
      },
      {
        Put: {
          TableName: this.table,
          Item: { ...entryKey(eventId, userId), Position: place.position, AdmitAt: place.admitAtMs },
          ConditionExpression: placeCondition,
          ExpressionAttributeNames: attrNames(placeCondition),
          ...(spent ? { ExpressionAttributeValues: { ':old': spent.position } } : {}),
        },
      },
    ];
  }

  async issuePass(eventId: string, userId: string, position: number, passMs: number, now: Date): Promise<PassOutcome> {
    const nowMs = now.getTime();
    const update = 'SET #PassExpiresAt = :e';
    const condition = '#Position = :p AND attribute_not_exists(#PassExpiresAt)';
    try {
      // Opened only where no window is open yet; then whatever window the place has decides.
      await withRetry(() =>
        this.doc.send(
          new UpdateCommand({
            TableName: this.table,
            Key: entryKey(eventId, userId),
            UpdateExpression: update,
            ConditionExpression: condition,
            ExpressionAttributeNames: attrNames(update, condition),
            ExpressionAttributeValues: { ':e': nowMs + passMs, ':p': position },
          }),
        ),
      );
    } catch (err) {
      if (!isConditionalCheckFailed(err)) throw err;
    }
    const item = await getItem(this.doc, this.table, entryKey(eventId, userId));
    const place = item && toPlace(item);
    if (!place || place.position < position) return { kind: 'unknown' };
    if (place.position > position || isSpent(place, nowMs)) return { kind: 'expired' };
    return { kind: 'issued', expiresAtMs: place.passExpiresAtMs! };
  }

  async hasPurchase(userId: string, idempotencyKey: string): Promise<boolean> {
    // The order's first ticket has an id derived from the user and the key (services/ticketing/src/store/dynamodb.ts): it exists once bought.
    return (await getItem(this.doc, this.ticketsTable, { TicketID: idempotentTicketId(userId, idempotencyKey) })) !== undefined;
  }

  async close(): Promise<void> {
    this.dynamo.client.destroy();
  }
}
