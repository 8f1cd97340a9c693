// During a rolling upgrade, processes of the previous version and of this one share the events SQLite file. This
// version's migrations must leave what the previous version writes and reads in place: its RSVP still commits,
// and this version shows that registration with the event as it is now.
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { CreateEventBody } from '@dems/contracts';
import { tempDir } from '@dems/kit/testing';
import { buildNewEvent } from '../src/domain/event-rules.js';
import { SqliteEventsStore } from '../src/store/sqlite.js';
import { storeNewEvent } from '../src/use-cases/create-event.js';
import { eventBody } from './helpers.js';

describe('the events SQLite file shared with the previous version during a rolling upgrade', () => {
  const dir = tempDir('events-rolling-upgrade-');
  afterEach(() => dir.cleanup());

  it("takes the previous version's RSVP as it wrote it, and reads it back with the event's current zone, end and status", async () => {
    const file = join(dir.path, 'events.db');
    const store = new SqliteEventsStore({ file, synchronous: 'NORMAL' });
    const event = await storeNewEvent(store, buildNewEvent(CreateEventBody.parse(eventBody({ timezone: 'America/Los_Angeles' })), 'usr_org', new Date()));

    // The previous version's statement, verbatim, from another connection to the same file.
    const previous = new Database(file);
    const inserted = previous
      .prepare(
        `INSERT INTO registrations (id, event_id, user_id, user_name, user_email, event_title, event_starts_at, created_at)
         SELECT ?, id, ?, ?, ?, title, starts_at, ? FROM events WHERE id = ?
         ON CONFLICT (event_id, user_id) DO NOTHING`,
      )
      .run('reg_previous', 'usr_ada', 'Ada', 'ada@example.com', new Date().toISOString(), event.id);
    expect(inserted.changes).toBe(1);
    expect(previous.prepare('SELECT event_title FROM registrations WHERE id = ?').pluck().get('reg_previous')).toBe(event.title);
    previous.close();

    expect(await store.registrationOf(event.id, 'usr_ada')).toMatchObject({
      id: 'reg_previous',
      eventTitle: event.title,
      eventStartsAt: event.startsAt,
      eventEndsAt: event.endsAt,
      eventTimezone: 'America/Los_Angeles',
      eventStatus: 'published',
    });
    await store.close();
  });
});
