import { QueryCommand, UpdateCommand, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import type { Message, Registration, TicketType } from '@dems/contracts';
import { invalidCursor } from '@dems/kit';
import {
  batchGet,
  ConditionFailed,
  decodeKey,
  DynamoStoreBase,
  encodeKey,
  getItem,
  isConditionalCheckFailed,
  orderedKey,
  withRetry,
  type DynamoSettings,
  type Item,
  type TableSpec,
  type TransactItem,
} from '@dems/kit/dynamodb';
import type { BannerRendition, EventRecord } from '../domain/banner.js';
import {
  registrationEventOf,
  type EventChange,
  type EventCursor,
  type EventFilter,
  type EventsStore,
  type Page,
  type PageRequest,
  type ReadConsistency,
  type RegistrationEvent,
} from './events-store.js';
import { cursorAt, endOfMonthKey, listingBucket, LONG_BUCKET, lowerKey, mergePage, monthsToRead, startKey, upperKey, type StreamRead } from './listing-buckets.js';

/**
 * Table shapes (docs/dynamodb.md). `Events` keeps the seed's name and key: one item per event, plus the
 * `listing#months` item naming every month bucket that ever held a published event. `EventRegistrations` holds a
 * user's registrations as one item collection (`user#<id>` / `event#<id>`, which is also the "once per person"
 * key) and one small counter per event (`event#<id>` / `count`) that carries the count, the limit and whether
 * registration is closed, so an RSVP never rewrites the multi-kilobyte event item or its index entries.
 */
export function eventsTables(prefix: string): { events: TableSpec; registrations: TableSpec } {
  return {
    events: {
      name: `${prefix}Events`,
      pk: { name: 'EventID', type: 'S' },
      indexes: [
        // Only published events carry `ListingMonth` (their start month, or `long`), so the public listing reads
        // the months from "not over yet" on and never a cancelled event. ALL: a page returns whole events, and
        // a search matches their title, description and venue as read.
        { name: 'ByStartMonth', pk: { name: 'ListingMonth', type: 'S' }, sk: { name: 'StartKey', type: 'S' } },
        { name: 'ByOrganizer', pk: { name: 'OrganizerID', type: 'S' }, sk: { name: 'StartKey', type: 'S' } },
      ],
    },
    registrations: {
      name: `${prefix}EventRegistrations`,
      pk: { name: 'PK', type: 'S' },
      sk: { name: 'SK', type: 'S' },
      // An event's registrations in sign-up order; the counter item has neither attribute, so it stays out.
      // ALL: the attendee list shows every attribute of these small items.
      indexes: [{ name: 'BySignup', pk: { name: 'EventID', type: 'S' }, sk: { name: 'Signup', type: 'S' } }],
    },
  };
}

/** How many index items one listing request reads at most (a search that matches little stops there, with a cursor). */
export const LISTING_READ_BUDGET = 1000;
const MONTHS_KEY = { EventID: 'listing#months' };
/** Sorts before every StartKey: the lower bound of a range read from its start (a key value may not be empty). */
const FIRST_KEY = ' ';

const userKey = (userId: string, eventId: string) => ({ PK: `user#${userId}`, SK: `event#${eventId}` });
const counterKey = (eventId: string) => ({ PK: `event#${eventId}`, SK: 'count' });
/**
 * What a search looks in, lower-cased. Matched here rather than by a FilterExpression on a stored copy: a filter saves
 * no read units (they count what is read), and the copy would double the event item in the table and both its
 * indexes, i.e. double the write units of every change of an event.
 */
const searchText = (i: Item) => `${String(i.Title)}\n${String(i.Description)}\n${String(i.Venue)}`.toLowerCase();

/** The counter's view of an event: registrations so far (0 when it has no counter item yet). */
const countOf = (counter: Item | undefined): number => Number(counter?.RegistrationCount ?? 0);

function toEvent(i: Item, registrationCount: number): EventRecord {
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
    registrationCount,
    ticketTypes: ((i.TicketTypes ?? []) as TicketType[]).map((t) => ({ id: t.id, name: t.name, priceCents: t.priceCents, currency: t.currency, capacity: t.capacity })),
    banner: ((i.Banner ?? []) as BannerRendition[]).map((r) => ({ width: Number(r.width), height: Number(r.height), key: String(r.key) })),
    createdAt: String(i.CreatedAt),
    updatedAt: String(i.UpdatedAt),
  };
}

function toRegistration(r: Item, event: RegistrationEvent): Registration {
  return {
    id: String(r.RegistrationID),
    eventId: String(r.EventID),
    userId: String(r.UserID),
    userName: String(r.UserName),
    userEmail: String(r.UserEmail),
    ...event,
    createdAt: String(r.CreatedAt),
  };
}

/**
 * The attributes a change may set, with those derived from them (listing keys), written alike on create and
 * update. Only a published event carries `ListingMonth`, so only published events are in the public listing.
 */
function changeableAttributes(event: EventRecord): Item {
  return {
    Status: event.status,
    Title: event.title,
    Description: event.description,
    Venue: event.venue,
    Timezone: event.timezone,
    StartsAt: event.startsAt,
    EndsAt: event.endsAt,
    TicketTypes: event.ticketTypes,
    StartKey: startKey(event.startsAt, event.id),
    ListingMonth: event.status === 'published' ? listingBucket(event) : undefined,
    UpdatedAt: event.updatedAt,
  };
}

/** A page cursor of the registration lists: the index key of the last item, as DynamoDB's ExclusiveStartKey. */
function startFrom(cursor: string | undefined, names: string[]): Item | undefined {
  if (cursor === undefined) return undefined;
  const key = decodeKey(cursor);
  if (!key || Object.keys(key).length !== names.length || !names.every((n) => typeof key[n] === 'string')) throw invalidCursor();
  return key;
}

export interface DynamoEventsStoreOptions {
  settings: DynamoSettings;
  /** Called after a commit that enqueued messages (serve.ts: relay.kick()). */
  onMessagesCommitted?: () => void;
  /** Index items one listing request may read (LISTING_READ_BUDGET); tests lower it. */
  listingReadBudget?: number;
}

/** What one listing request may still read, in index items; shared by the partitions it reads. */
interface Budget {
  left: number;
}

/** One key-ordered range of a listing index: a partition, keys in (lower, upper], and the listing's filters. */
interface RangeQuery {
  index: 'ByStartMonth' | 'ByOrganizer';
  partition: Item;
  lower: string;
  upper: string;
  filters: string[];
  values: Item;
  /** A text search: it matches few of the items it reads, so it reads in larger pages. */
  matches?: (item: Item) => boolean;
}

/**
 * The events store on DynamoDB. Each change and its outbox items are one TransactWriteItems; a change that
 * depends on what its caller read (version, registration count) carries that as a condition and answers false
 * when another writer got there first, so the use case plans again: that is how the registration limit holds
 * across any number of processes.
 */
export class DynamoEventsStore extends DynamoStoreBase implements EventsStore {
  private readonly t: ReturnType<typeof eventsTables>;
  private readonly onMessagesCommitted: () => void;
  private readonly readBudget: number;
  /** Month buckets this process knows are in `listing#months` already, so a new event writes there only once a month. */
  private readonly knownMonths = new Set<string>();

  constructor(opts: DynamoEventsStoreOptions) {
    super(opts.settings, 'events', Object.values(eventsTables(opts.settings.tablePrefix)));
    this.t = eventsTables(opts.settings.tablePrefix);
    this.onMessagesCommitted = opts.onMessagesCommitted ?? (() => {});
    this.readBudget = opts.listingReadBudget ?? LISTING_READ_BUDGET;
  }

  /** Commits the items and the messages' outbox entries in one transaction; wakes the relay when there were messages. */
  private async commitWith(items: TransactItem[], messages: readonly Message[]): Promise<void> {
    try {
      await this.commit([...items, ...this.outbox.outboxPuts(...messages)]);
    } finally {
      this.ownWrites++;
    }
    if (messages.length) this.onMessagesCommitted();
  }

  /** commitWith, answering false instead when a condition no longer held (another writer came first). */
  private async commitIfStill(items: TransactItem[], messages: readonly Message[]): Promise<boolean> {
    try {
      await this.commitWith(items, messages);
      return true;
    } catch (err) {
      if (err instanceof ConditionFailed) return false;
      throw err;
    }
  }

  /** This process's writes, counted after each ends (a failed one too: a needless rebuild, never a stale answer). */
  private ownWrites = 0;
  /** Other replicas' writes are not seen here: caches of these answers expire after a short time as well. */
  readonly dataVersionSeesEveryWriter = false;

  dataVersion(): string {
    return String(this.ownWrites);
  }

  private async loadEvent(id: string, read: ReadConsistency = 'consistent'): Promise<{ event: EventRecord; version: number } | null> {
    const consistent = read === 'consistent';
    const [item, counter] = await Promise.all([
      getItem(this.doc, this.t.events.name, { EventID: id }, consistent),
      getItem(this.doc, this.t.registrations.name, counterKey(id), consistent),
    ]);
    return item ? { event: toEvent(item, countOf(counter)), version: Number(item.Version) } : null;
  }

  /**
   * Adds the event's start month to `listing#months` before the event is written, so a listing never skips a
   * month that holds one. An idempotent set ADD; a month that later empties costs a listing one empty query.
   */
  private async noteMonth(event: Pick<EventRecord, 'startsAt' | 'endsAt'>): Promise<void> {
    const month = listingBucket(event);
    if (month === LONG_BUCKET || this.knownMonths.has(month)) return;
    await withRetry(() =>
      this.doc.send(
        new UpdateCommand({ TableName: this.t.events.name, Key: MONTHS_KEY, UpdateExpression: 'ADD Months :m', ExpressionAttributeValues: { ':m': new Set([month]) } }),
      ),
    );
    this.knownMonths.add(month);
  }

  async createEvent(event: EventRecord, messages: readonly Message[]): Promise<void> {
    if (event.status === 'published') await this.noteMonth(event);
    const item: Item = {
      EventID: event.id,
      OrganizerID: event.organizerId,
      ...changeableAttributes(event),
      RegistrationLimit: event.registrationLimit ?? undefined,
      Version: 1,
      Banner: event.banner.length ? event.banner : undefined,
      CreatedAt: event.createdAt,
    };
    const counter: Item = {
      ...counterKey(event.id),
      RegistrationCount: event.registrationCount,
      RegistrationLimit: event.registrationLimit ?? undefined,
      Closed: event.status === 'published' ? undefined : true,
    };
    await this.commitWith(
      [
        { Put: { TableName: this.t.events.name, Item: item, ConditionExpression: 'attribute_not_exists(EventID)' } },
        { Put: { TableName: this.t.registrations.name, Item: counter, ConditionExpression: 'attribute_not_exists(PK)' } },
      ],
      messages,
    );
  }

  async getEvent(id: string, read: ReadConsistency = 'consistent'): Promise<EventRecord | null> {
    return (await this.loadEvent(id, read))?.event ?? null;
  }

  async listEvents(filter: EventFilter, page: { after?: EventCursor; limit: number }): Promise<{ items: EventRecord[]; next: EventCursor | null }> {
    const filters: string[] = [];
    const values: Item = {};
    if (filter.from) {
      // Not over by `from`, as hasEnded (contracts) decides: an event ending exactly then is over.
      filters.push('EndsAt > :from');
      values[':from'] = filter.from;
    }
    const q = filter.q?.toLowerCase();
    const budget: Budget = { left: this.readBudget };
    const wanted = page.limit + 1;
    const upper = upperKey(filter.to);
    const range = (index: RangeQuery['index'], partition: Item, lower: string): RangeQuery => ({
      index,
      partition,
      lower,
      upper,
      filters,
      values,
      ...(q ? { matches: (i: Item) => searchText(i).includes(q) } : {}),
    });

    let reads: StreamRead<Item>[];
    if (filter.kind === 'organizer') {
      const lower = page.after ? startKey(page.after.startsAt, page.after.id) : FIRST_KEY;
      reads = [await this.readRange(range('ByOrganizer', { OrganizerID: filter.organizerId }, lower), wanted, budget)];
    } else {
      const lower = lowerKey(filter.from, page.after);
      // The long bucket may spend half the budget, so the months always get a read too and every page moves on.
      // Its events may have started any time before `from`, so only the cursor bounds it from below.
      const longShare = Math.ceil(budget.left / 2);
      const longBudget: Budget = { left: longShare };
      const longLower = page.after ? startKey(page.after.startsAt, page.after.id) : FIRST_KEY;
      const long = await this.readRange(range('ByStartMonth', { ListingMonth: LONG_BUCKET }, longLower), wanted, longBudget);
      budget.left -= longShare - longBudget.left;
      reads = [long, await this.readMonths(lower, filter.to, (month) => range('ByStartMonth', { ListingMonth: month }, lower), wanted, budget)];
    }

    const merged = mergePage(reads, page.limit, (i) => String(i.StartKey));
    const counters = await batchGet(
      this.doc,
      this.t.registrations.name,
      merged.items.map((i) => counterKey(String(i.EventID))),
      false,
    );
    const counts = new Map(counters.map((c) => [String(c.PK), countOf(c)]));
    const items = merged.items.map((i) => toEvent(i, counts.get(counterKey(String(i.EventID)).PK) ?? 0));
    return { items, next: merged.next === null ? null : cursorAt(merged.next) };
  }

  /** The month buckets from `lower`'s month on, in order, read as one stream until `wanted` items matched or the budget is spent. */
  private async readMonths(lower: string, to: string | undefined, rangeOf: (month: string) => RangeQuery, wanted: number, budget: Budget): Promise<StreamRead<Item>> {
    const listed = await getItem(this.doc, this.t.events.name, MONTHS_KEY, false);
    const months = monthsToRead((listed?.Months as Set<string> | undefined) ?? [], lower, to);
    const items: Item[] = [];
    for (const [i, month] of months.entries()) {
      if (budget.left <= 0) {
        // Everything up to the end of the previous month (or `lower`) is read; the next page starts at this month.
        return { items, readUpTo: i === 0 ? lower : endOfMonthKey(months[i - 1]!) };
      }
      const read = await this.readRange(rangeOf(month), wanted - items.length, budget);
      items.push(...read.items);
      if (read.readUpTo !== null) return { items, readUpTo: read.readUpTo };
      if (items.length >= wanted && i < months.length - 1) return { items, readUpTo: endOfMonthKey(month) };
    }
    return { items, readUpTo: null };
  }

  /**
   * Reads one key range in order until `wanted` items matched, the range ended, or the budget is spent (DynamoDB's
   * Limit counts items read before the filter, so the budget is exact). `readUpTo` is the last key read when it
   * stopped short; items with keys equal to the exclusive lower bound are dropped (BETWEEN includes it).
   */
  private async readRange(q: RangeQuery, wanted: number, budget: Budget): Promise<StreamRead<Item>> {
    const [pkName, pkValue] = Object.entries(q.partition)[0]!;
    const items: Item[] = [];
    let start: Item | undefined;
    let readUpTo = q.lower;
    for (;;) {
      if (budget.left <= 0) return { items, readUpTo };
      const limit = Math.min(budget.left, q.matches ? 100 : wanted - items.length + 1);
      const res = await withRetry(() =>
        this.doc.send(
          new QueryCommand({
            TableName: this.t.events.name,
            IndexName: q.index,
            KeyConditionExpression: '#pk = :pk AND StartKey BETWEEN :lower AND :upper',
            ...(q.filters.length ? { FilterExpression: q.filters.join(' AND ') } : {}),
            ExpressionAttributeNames: { '#pk': pkName },
            ExpressionAttributeValues: { ...q.values, ':pk': pkValue, ':lower': q.lower, ':upper': q.upper },
            ExclusiveStartKey: start,
            Limit: limit,
          }),
        ),
      );
      budget.left -= res.ScannedCount ?? limit;
      items.push(...((res.Items ?? []) as Item[]).filter((i) => i.StartKey !== q.lower && (!q.matches || q.matches(i))));
      start = res.LastEvaluatedKey as Item | undefined;
      if (!start) return { items, readUpTo: null };
      readUpTo = String(start.StartKey);
      if (items.length >= wanted) return { items, readUpTo };
    }
  }

  async getEventForUpdate(id: string): Promise<{ event: EventRecord; version: number } | null> {
    return this.loadEvent(id);
  }

  async saveEvent({ event, changes, version, messages }: EventChange): Promise<boolean> {
    if (event.status === 'published') await this.noteMonth(event);
    // Every attribute goes through a name placeholder: several (Timezone, Status, …) are reserved words.
    const fields = Object.entries({ ...changeableAttributes(event), Version: version, RegistrationLimit: event.registrationLimit ?? undefined });
    const names: Record<string, string> = { '#version': 'Version' };
    const values: Item = { ':current': version - 1 };
    const sets: string[] = [];
    const removes: string[] = [];
    for (const [i, [name, value]] of fields.entries()) {
      names[`#f${i}`] = name;
      if (value === undefined) removes.push(`#f${i}`);
      else {
        values[`:f${i}`] = value;
        sets.push(`#f${i} = :f${i}`);
      }
    }
    const items: TransactItem[] = [
      {
        Update: {
          TableName: this.t.events.name,
          Key: { EventID: event.id },
          UpdateExpression: `SET ${sets.join(', ')}${removes.length ? ` REMOVE ${removes.join(', ')}` : ''}`,
          ConditionExpression: '#version = :current',
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
        },
      },
    ];
    const counter = this.counterUpdate(event, changes);
    if (counter) items.push(counter);
    // False when another change came first, or registrations outgrew the new limit since the plan.
    return this.commitIfStill(items, messages);
  }

  /**
   * The counter's copy of what a registration's transaction looks at, when the change touches it: the limit (a new
   * one refused when more people are registered by now than it allows) and whether registration is closed (the
   * event is no longer published).
   */
  private counterUpdate(event: EventRecord, changes: readonly string[]): TransactItem | null {
    const sets: string[] = [];
    const removes: string[] = [];
    const values: Item = {};
    let condition: string | undefined;
    if (changes.includes('registrationLimit')) {
      if (event.registrationLimit === null) removes.push('RegistrationLimit');
      else {
        sets.push('RegistrationLimit = :limit');
        values[':limit'] = event.registrationLimit;
        condition = 'attribute_not_exists(RegistrationCount) OR RegistrationCount <= :limit';
      }
    }
    if (changes.includes('status')) {
      if (event.status === 'published') removes.push('Closed');
      else {
        sets.push('Closed = :closed');
        values[':closed'] = true;
      }
    }
    if (sets.length === 0 && removes.length === 0) return null;
    const expression = [sets.length ? `SET ${sets.join(', ')}` : '', removes.length ? `REMOVE ${removes.join(', ')}` : ''].filter(Boolean).join(' ');
    return {
      Update: {
        TableName: this.t.registrations.name,
        Key: counterKey(event.id),
        UpdateExpression: expression,
        ...(condition ? { ConditionExpression: condition } : {}),
        ...(Object.keys(values).length ? { ExpressionAttributeValues: values } : {}),
      },
    };
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
      const counter = await getItem(this.doc, this.t.registrations.name, counterKey(id));
      const before = toEvent(res.Attributes as Item, countOf(counter));
      return { event: { ...before, banner, updatedAt }, previous: before.banner };
    } catch (err) {
      if (isConditionalCheckFailed(err)) return null;
      throw err;
    } finally {
      this.ownWrites++;
    }
  }

  private async registrationItem(eventId: string, userId: string): Promise<Item | undefined> {
    return getItem(this.doc, this.t.registrations.name, userKey(userId, eventId));
  }

  async addRegistration(registration: Registration, messages: readonly Message[]): Promise<boolean> {
    // The premises of the caller's decision are conditions: on the counter (registration still open, still below
    // the limit) and on the registration (not registered yet). The event item is only read: an RSVP writes three
    // small items. What it shows of its event (registrationEventOf) is joined from the event item when read.
    // Orders sign-ups of the same millisecond as they were made (in this process; across processes, by ms).
    const seq = orderedKey();
    const item: Item = {
      ...userKey(registration.userId, registration.eventId),
      EventID: registration.eventId,
      UserID: registration.userId,
      RegistrationID: registration.id,
      UserName: registration.userName,
      UserEmail: registration.userEmail,
      CreatedAt: registration.createdAt,
      Seq: seq,
      Signup: `${registration.createdAt}#${seq}`,
    };
    return this.commitIfStill(
      [
        { Put: { TableName: this.t.registrations.name, Item: item, ConditionExpression: 'attribute_not_exists(PK)' } },
        {
          Update: {
            TableName: this.t.registrations.name,
            Key: counterKey(registration.eventId),
            UpdateExpression: 'ADD RegistrationCount :one',
            ConditionExpression: 'attribute_not_exists(Closed) AND (attribute_not_exists(RegistrationLimit) OR RegistrationCount < RegistrationLimit)',
            ExpressionAttributeValues: { ':one': 1 },
          },
        },
      ],
      messages,
    );
  }

  async removeRegistration(registration: Registration, messages: readonly Message[]): Promise<boolean> {
    return this.commitIfStill(
      [
        {
          Delete: {
            TableName: this.t.registrations.name,
            Key: userKey(registration.userId, registration.eventId),
            ConditionExpression: 'RegistrationID = :id',
            ExpressionAttributeValues: { ':id': registration.id },
          },
        },
        {
          Update: {
            TableName: this.t.registrations.name,
            Key: counterKey(registration.eventId),
            UpdateExpression: 'ADD RegistrationCount :minus',
            ExpressionAttributeValues: { ':minus': -1 },
          },
        },
      ],
      messages,
    );
  }

  /** The events of these registrations, read in batches (eventually consistent), for what each shows of its event (registrationEventOf). */
  private async withEvents(rows: Item[]): Promise<Registration[]> {
    const events = await batchGet(
      this.doc,
      this.t.events.name,
      rows.map((r) => ({ EventID: r.EventID })),
      false,
    );
    // The count lives on the counter item and is no part of what a registration shows: 0 stands in for it.
    const byId = new Map(events.map((e) => [String(e.EventID), registrationEventOf(toEvent(e, 0))]));
    return rows.flatMap((r) => {
      const event = byId.get(String(r.EventID));
      return event ? [toRegistration(r, event)] : [];
    });
  }

  async registrationOf(eventId: string, userId: string): Promise<Registration | null> {
    const row = await this.registrationItem(eventId, userId);
    return row ? ((await this.withEvents([row]))[0] ?? null) : null;
  }

  /** One page of a query on the registrations table, read with one extra item to tell whether more follow. */
  private async registrationPage(input: Omit<QueryCommandInput, 'TableName' | 'Limit' | 'ExclusiveStartKey'>, page: PageRequest, keyNames: string[]): Promise<Page<Registration>> {
    const res = await withRetry(() =>
      this.doc.send(new QueryCommand({ ...input, TableName: this.t.registrations.name, Limit: page.limit + 1, ExclusiveStartKey: startFrom(page.cursor, keyNames) })),
    );
    const rows = (res.Items ?? []) as Item[];
    const shown = rows.slice(0, page.limit);
    const last = shown.at(-1);
    const next = rows.length > page.limit && last ? encodeKey(Object.fromEntries(keyNames.map((n) => [n, last[n]]))) : null;
    return { items: await this.withEvents(shown), next };
  }

  async registrationsOfUser(userId: string, page: PageRequest): Promise<Page<Registration>> {
    // Newest published event first: event ids sort by creation time.
    return this.registrationPage({ KeyConditionExpression: 'PK = :pk', ExpressionAttributeValues: { ':pk': `user#${userId}` }, ScanIndexForward: false }, page, ['PK', 'SK']);
  }

  async registrationsOfEvent(eventId: string, page: PageRequest): Promise<Page<Registration>> {
    // Earliest first: Signup is the sign-up instant, then the order of sign-ups within one millisecond.
    return this.registrationPage({ IndexName: 'BySignup', KeyConditionExpression: 'EventID = :e', ExpressionAttributeValues: { ':e': eventId } }, page, [
      'EventID',
      'Signup',
      'PK',
      'SK',
    ]);
  }

  async acknowledge(message: Message): Promise<'applied' | 'duplicate'> {
    return this.outbox.acknowledge(message);
  }

  isReady(): Promise<boolean> {
    return this.answers(this.t.events, { EventID: '_ready' });
  }
}
