import { QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { newMessage, type Message, type Registration, type TicketType } from '@dems/contracts';
import { AppError, newId } from '@dems/kit';
import {
  batchGet,
  ConditionFailed,
  DynamoStoreBase,
  getItem,
  orderedKey,
  queryAll,
  transactWrite,
  withRetry,
  type DynamoSettings,
  type Item,
  type TableSpec,
  type TransactItem,
} from '@dems/kit/dynamodb';
import type { BannerRendition, EventRecord } from '../domain/banner.js';
import { assertCanRegister, assertLimitCovers, toSnapshot } from '../domain/event-rules.js';
import type { EventCursor, EventFilter, EventsStore, PlannedEventUpdate, Registrant } from './events-store.js';

/** Table shapes (docs/dynamodb.md). `Events` keeps the seed's name and key. */
export function eventsTables(prefix: string): { events: TableSpec; registrations: TableSpec } {
  return {
    events: {
      name: `${prefix}Events`,
      pk: { name: 'EventID', type: 'S' },
      indexes: [
        // Only published events carry `Listing`, so the public listing never reads cancelled ones.
        { name: 'Listing', pk: { name: 'Listing', type: 'S' }, sk: { name: 'StartKey', type: 'S' } },
        { name: 'ByOrganizer', pk: { name: 'OrganizerID', type: 'S' }, sk: { name: 'StartKey', type: 'S' } },
      ],
    },
    registrations: {
      name: `${prefix}Registrations`,
      pk: { name: 'EventID', type: 'S' },
      sk: { name: 'UserID', type: 'S' },
      indexes: [{ name: 'ByUser', pk: { name: 'UserID', type: 'S' }, sk: { name: 'EventID', type: 'S' } }],
    },
  };
}

const PUBLISHED = 'published';
/** How often a write that lost a race (a condition on data another writer just changed) is re-planned. */
const MAX_REPLANS = 25;

const startKey = (startsAt: string, id: string) => `${startsAt}#${id}`;
const searchText = (e: Pick<EventRecord, 'title' | 'description' | 'venue'>) => `${e.title}\n${e.description}\n${e.venue}`.toLowerCase();

function toEvent(i: Item): EventRecord {
  return {
    id: String(i.EventID),
    organizerId: String(i.OrganizerID),
    title: String(i.Title),
    description: String(i.Description),
    venue: String(i.Venue),
    timezone: String(i.Timezone),
    startsAt: String(i.StartsAt),
    endsAt: String(i.EndsAt),
    status: i.Status as EventRecord['status'],
    registrationLimit: typeof i.RegistrationLimit === 'number' ? i.RegistrationLimit : null,
    registrationCount: Number(i.RegistrationCount ?? 0),
    ticketTypes: ((i.TicketTypes ?? []) as TicketType[]).map((t) => ({ id: t.id, name: t.name, priceCents: t.priceCents, currency: t.currency, capacity: t.capacity })),
    banner: ((i.Banner ?? []) as BannerRendition[]).map((r) => ({ width: Number(r.width), height: Number(r.height), key: String(r.key) })),
    createdAt: String(i.CreatedAt),
    updatedAt: String(i.UpdatedAt),
  };
}

function toRegistration(r: Item, event: Pick<EventRecord, 'title' | 'startsAt'>): Registration {
  return {
    id: String(r.RegistrationID),
    eventId: String(r.EventID),
    userId: String(r.UserID),
    userName: String(r.UserName),
    userEmail: String(r.UserEmail),
    eventTitle: event.title,
    eventStartsAt: event.startsAt,
    createdAt: String(r.CreatedAt),
  };
}

/** The attributes a PATCH may change, with those derived from them (search text, listing key): written alike on create and update. */
function editableAttributes(event: EventRecord): Item {
  return {
    Title: event.title,
    Description: event.description,
    Venue: event.venue,
    Timezone: event.timezone,
    StartsAt: event.startsAt,
    EndsAt: event.endsAt,
    TicketTypes: event.ticketTypes,
    SearchText: searchText(event),
    StartKey: startKey(event.startsAt, event.id),
    UpdatedAt: event.updatedAt,
  };
}

export interface DynamoEventsStoreOptions {
  settings: DynamoSettings;
  /** Called after a commit that enqueued messages (serve.ts: relay.kick()). */
  onMessagesCommitted?: () => void;
}

/**
 * The events store on DynamoDB. Each change and its outbox items are one TransactWriteItems; a change that
 * depends on what it read (version, registration count) carries that as a condition and is re-planned when
 * another writer got there first, which is how the registration limit holds across any number of processes.
 */
export class DynamoEventsStore extends DynamoStoreBase implements EventsStore {
  private readonly t: ReturnType<typeof eventsTables>;
  private readonly onMessagesCommitted: () => void;

  constructor(opts: DynamoEventsStoreOptions) {
    super(opts.settings, 'events', Object.values(eventsTables(opts.settings.tablePrefix)));
    this.t = eventsTables(opts.settings.tablePrefix);
    this.onMessagesCommitted = opts.onMessagesCommitted ?? (() => {});
  }

  /** Commits the items; kicks the relay when outbox items were among them. */
  private async commit(items: TransactItem[], messages: Message[] = []): Promise<void> {
    await transactWrite(this.doc, [...items, ...this.outbox.outboxPuts(...messages)]);
    if (messages.length) this.onMessagesCommitted();
  }

  private async loadEvent(id: string): Promise<{ event: EventRecord; version: number } | null> {
    const item = await getItem(this.doc, this.t.events.name, { EventID: id });
    return item ? { event: toEvent(item), version: Number(item.Version) } : null;
  }

  async createEvent(event: EventRecord): Promise<EventRecord> {
    const item: Item = {
      EventID: event.id,
      OrganizerID: event.organizerId,
      ...editableAttributes(event),
      Status: event.status,
      RegistrationLimit: event.registrationLimit ?? undefined,
      RegistrationCount: event.registrationCount,
      Version: 1,
      Listing: event.status === 'published' ? PUBLISHED : undefined,
      Banner: event.banner.length ? event.banner : undefined,
      CreatedAt: event.createdAt,
    };
    await this.commit(
      [{ Put: { TableName: this.t.events.name, Item: item, ConditionExpression: 'attribute_not_exists(EventID)' } }],
      [newMessage('events', 'EventPublished', { event: toSnapshot(event, 1) })],
    );
    return event;
  }

  async getEvent(id: string): Promise<EventRecord | null> {
    return (await this.loadEvent(id))?.event ?? null;
  }

  async listEvents(filter: EventFilter, page: { after?: EventCursor; limit: number }): Promise<{ items: EventRecord[]; next: EventCursor | null }> {
    const names: Record<string, string> = {};
    const values: Record<string, unknown> = {};
    let keyCondition: string;
    let index: string;
    let startPk: Item;
    if (filter.kind === 'upcoming') {
      index = 'Listing';
      keyCondition = 'Listing = :pk';
      values[':pk'] = PUBLISHED;
      startPk = { Listing: PUBLISHED };
    } else {
      index = 'ByOrganizer';
      keyCondition = 'OrganizerID = :pk';
      values[':pk'] = filter.organizerId;
      startPk = { OrganizerID: filter.organizerId };
    }
    if (filter.to) {
      // '~' sorts after every id character, so an event starting exactly at `to` is included.
      keyCondition += ' AND #sk <= :to';
      names['#sk'] = 'StartKey';
      values[':to'] = `${filter.to}#~`;
    }
    const filters: string[] = [];
    if (filter.from) {
      // Not over by `from`, as hasEnded (contracts) decides: an event ending exactly then is over.
      filters.push('EndsAt > :from');
      values[':from'] = filter.from;
    }
    if (filter.q) {
      filters.push('contains(SearchText, :q)');
      values[':q'] = filter.q.toLowerCase();
    }

    // The cursor is the index key of the last item returned, i.e. DynamoDB's own ExclusiveStartKey.
    let start: Item | undefined = page.after
      ? { ...startPk, StartKey: startKey(page.after.startsAt, page.after.id), EventID: page.after.id }
      : undefined;
    const found: Item[] = [];
    do {
      const res = await withRetry(() =>
        this.doc.send(
          new QueryCommand({
            TableName: this.t.events.name,
            IndexName: index,
            KeyConditionExpression: keyCondition,
            ...(filters.length ? { FilterExpression: filters.join(' AND ') } : {}),
            ...(Object.keys(names).length ? { ExpressionAttributeNames: names } : {}),
            ExpressionAttributeValues: values,
            ExclusiveStartKey: start,
            // Filters apply after Limit; read a few pages' worth so a selective search needs few round trips.
            Limit: Math.max(page.limit + 1, 100),
          }),
        ),
      );
      found.push(...((res.Items ?? []) as Item[]));
      start = res.LastEvaluatedKey as Item | undefined;
    } while (start && found.length <= page.limit);

    const items = found.slice(0, page.limit).map(toEvent);
    const last = items[items.length - 1];
    return { items, next: found.length > page.limit && last ? { startsAt: last.startsAt, id: last.id } : null };
  }

  async getEventForUpdate(id: string): Promise<{ event: EventRecord; version: number } | null> {
    return this.loadEvent(id);
  }

  async saveEventUpdate({ event, changes, version }: PlannedEventUpdate): Promise<boolean> {
    // Every attribute goes through a name placeholder: several (Timezone, Status, …) are reserved words.
    const fields: Record<string, unknown> = {
      ...editableAttributes(event),
      Version: version,
      ...(event.registrationLimit === null ? {} : { RegistrationLimit: event.registrationLimit }),
    };
    const names: Record<string, string> = { '#version': 'Version' };
    const values: Record<string, unknown> = { ':current': version - 1 };
    const sets = Object.entries(fields).map(([k, v], i) => {
      names[`#f${i}`] = k;
      values[`:f${i}`] = v;
      return `#f${i} = :f${i}`;
    });
    let set = `SET ${sets.join(', ')}`;
    let condition = '#version = :current';
    if (event.registrationLimit === null) {
      set += ' REMOVE #limit';
      names['#limit'] = 'RegistrationLimit';
    } else {
      // The count may have grown since the plan read it: the limit must still not be below it at commit.
      values[':limit'] = event.registrationLimit;
      condition += ' AND #count <= :limit';
      names['#count'] = 'RegistrationCount';
    }
    const update: TransactItem = {
      Update: { TableName: this.t.events.name, Key: { EventID: event.id }, UpdateExpression: set, ConditionExpression: condition, ExpressionAttributeNames: names, ExpressionAttributeValues: values },
    };
    try {
      await this.commit([update], [newMessage('events', 'EventUpdated', { event: toSnapshot(event, version), changes }, new Date(event.updatedAt))]);
      return true;
    } catch (err) {
      if (!(err instanceof ConditionFailed)) throw err;
      // Another change came first (plan again), or registrations outgrew the new limit (say so).
      const current = await this.loadEvent(event.id);
      if (current?.version === version - 1) assertLimitCovers(event, current.event.registrationCount);
      return false;
    }
  }

  async replaceBanner(id: string, banner: BannerRendition[], now: Date): Promise<{ event: EventRecord; previous: BannerRendition[] } | null> {
    const updatedAt = now.toISOString();
    try {
      // One UpdateItem: its ALL_OLD answer is the item just before this change, so `previous` is exactly the
      // banner this replaced, whatever else was uploaded meanwhile.
      const res = await withRetry(() =>
        this.doc.send(
          new UpdateCommand({
            TableName: this.t.events.name,
            Key: { EventID: id },
            UpdateExpression: banner.length ? 'SET Banner = :banner, UpdatedAt = :at' : 'SET UpdatedAt = :at REMOVE Banner',
            ConditionExpression: 'attribute_exists(EventID)',
            ExpressionAttributeValues: { ':at': updatedAt, ...(banner.length ? { ':banner': banner } : {}) },
            ReturnValues: 'ALL_OLD',
          }),
        ),
      );
      const before = toEvent(res.Attributes as Item);
      return { event: { ...before, banner, updatedAt }, previous: before.banner };
    } catch (err) {
      if ((err as Error).name === 'ConditionalCheckFailedException') return null;
      throw err;
    }
  }

  async cancelEvent(id: string, now: Date): Promise<{ event: EventRecord; changed: boolean }> {
    for (let attempt = 0; ; attempt++) {
      const current = await this.loadEvent(id);
      if (!current) throw new AppError('EVENT_NOT_FOUND', 'No event with this id.');
      if (current.event.status === 'cancelled') return { event: current.event, changed: false };
      const version = current.version + 1;
      const event: EventRecord = { ...current.event, status: 'cancelled', updatedAt: now.toISOString() };
      try {
        await this.commit(
          [
            {
              Update: {
                TableName: this.t.events.name,
                Key: { EventID: id },
                UpdateExpression: 'SET #s = :cancelled, Version = :version, UpdatedAt = :at REMOVE Listing',
                ConditionExpression: 'Version = :current',
                ExpressionAttributeNames: { '#s': 'Status' },
                ExpressionAttributeValues: { ':cancelled': 'cancelled', ':version': version, ':current': current.version, ':at': event.updatedAt },
              },
            },
          ],
          [newMessage('events', 'EventCancelled', { event: toSnapshot(event, version) }, now)],
        );
        return { event, changed: true };
      } catch (err) {
        if (!(err instanceof ConditionFailed) || attempt >= MAX_REPLANS) throw err;
      }
    }
  }

  private async registrationItem(eventId: string, userId: string): Promise<Item | undefined> {
    return getItem(this.doc, this.t.registrations.name, { EventID: eventId, UserID: userId });
  }

  async register(eventId: string, user: Registrant, now: Date): Promise<{ registration: Registration; created: boolean }> {
    // Read, decide, then commit with the decision's premises as conditions (still published, still below
    // the limit, not registered yet). A lost race re-reads and decides again, so the limit holds globally.
    for (let attempt = 0; ; attempt++) {
      const current = await this.loadEvent(eventId);
      if (!current) throw new AppError('EVENT_NOT_FOUND', 'No event with this id.');
      const existing = await this.registrationItem(eventId, user.id);
      if (existing && current.event.status !== 'cancelled') return { registration: toRegistration(existing, current.event), created: false };
      assertCanRegister(current.event, now);
      const item: Item = {
        EventID: eventId,
        UserID: user.id,
        RegistrationID: newId('reg_'),
        UserName: user.name,
        UserEmail: user.email,
        CreatedAt: now.toISOString(),
        // Orders sign-ups of the same millisecond as they were made (in this process; across processes, by ms).
        Seq: orderedKey(),
      };
      const registration = toRegistration(item, current.event);
      try {
        await this.commit(
          [
            { Put: { TableName: this.t.registrations.name, Item: item, ConditionExpression: 'attribute_not_exists(UserID)' } },
            {
              Update: {
                TableName: this.t.events.name,
                Key: { EventID: eventId },
                UpdateExpression: 'ADD RegistrationCount :one',
                ConditionExpression: '#s = :published AND (attribute_not_exists(RegistrationLimit) OR RegistrationCount < RegistrationLimit)',
                ExpressionAttributeNames: { '#s': 'Status' },
                ExpressionAttributeValues: { ':one': 1, ':published': 'published' },
              },
            },
          ],
          [newMessage('events', 'UserRegistered', { registrationId: registration.id, eventId, eventTitle: registration.eventTitle, userId: user.id }, now)],
        );
        return { registration, created: true };
      } catch (err) {
        if (!(err instanceof ConditionFailed) || attempt >= MAX_REPLANS) throw err;
      }
    }
  }

  async withdraw(eventId: string, userId: string, now: Date): Promise<boolean> {
    const row = await this.registrationItem(eventId, userId);
    if (!row) return false;
    const event = await this.loadEvent(eventId);
    try {
      await this.commit(
        [
          {
            Delete: {
              TableName: this.t.registrations.name,
              Key: { EventID: eventId, UserID: userId },
              ConditionExpression: 'RegistrationID = :id',
              ExpressionAttributeValues: { ':id': row.RegistrationID },
            },
          },
          {
            Update: {
              TableName: this.t.events.name,
              Key: { EventID: eventId },
              UpdateExpression: 'ADD RegistrationCount :minus',
              ExpressionAttributeValues: { ':minus': -1 },
            },
          },
        ],
        [
          newMessage(
            'events',
            'RegistrationWithdrawn',
            { registrationId: String(row.RegistrationID), eventId, eventTitle: event?.event.title ?? '', userId },
            now,
          ),
        ],
      );
      return true;
    } catch (err) {
      // Withdrawn by a concurrent request: this one changed nothing.
      if (err instanceof ConditionFailed) return false;
      throw err;
    }
  }

  /** The events of these registrations, read in batches, for the title and start they are shown with. */
  private async withEvents(rows: Item[]): Promise<Registration[]> {
    const events = await batchGet(
      this.doc,
      this.t.events.name,
      rows.map((r) => ({ EventID: r.EventID })),
      false,
    );
    const byId = new Map(events.map((e) => [String(e.EventID), toEvent(e)]));
    return rows.flatMap((r) => {
      const event = byId.get(String(r.EventID));
      return event ? [toRegistration(r, event)] : [];
    });
  }

  async registrationsOfUser(userId: string): Promise<Registration[]> {
    const rows = await queryAll(this.doc, {
      TableName: this.t.registrations.name,
      IndexName: 'ByUser',
      KeyConditionExpression: 'UserID = :u',
      ExpressionAttributeValues: { ':u': userId },
    });
    const list = await this.withEvents(rows);
    return list.sort((a, b) => (a.eventStartsAt === b.eventStartsAt ? cmp(a.id, b.id) : cmp(a.eventStartsAt, b.eventStartsAt)));
  }

  async registrationsOfEvent(eventId: string): Promise<Registration[]> {
    const rows = await queryAll(this.doc, {
      TableName: this.t.registrations.name,
      KeyConditionExpression: 'EventID = :e',
      ExpressionAttributeValues: { ':e': eventId },
      ConsistentRead: true,
    });
    // Earliest first; a tie in CreatedAt goes by Seq (sign-up order), then by id for items written before Seq.
    const seq = (r: Item) => (typeof r.Seq === 'string' ? r.Seq : '');
    rows.sort((a, b) => cmp(String(a.CreatedAt), String(b.CreatedAt)) || cmp(seq(a), seq(b)) || cmp(String(a.RegistrationID), String(b.RegistrationID)));
    return this.withEvents(rows);
  }

  async acknowledge(message: Message): Promise<'applied' | 'duplicate'> {
    return this.outbox.acknowledge(message);
  }

  isReady(): Promise<boolean> {
    return this.answers(this.t.events, { EventID: '_ready' });
  }

}

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
