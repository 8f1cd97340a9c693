import { join } from 'node:path';
import { afterEach, beforeEach, expect } from 'vitest';
import { CreateEventBody, type Message, type MessageType } from '@dems/contracts';
import { AppError, type AuthUser } from '@dems/kit';
import { tempDir } from '@dems/kit/testing';
import type { EventRecord } from '../../src/domain/banner.js';
import { buildNewEvent } from '../../src/domain/event-rules.js';
import { SqliteEventsStore } from '../../src/store/sqlite.js';
import { storeNewEvent } from '../../src/use-cases/create-event.js';
import { eventBody, pendingMessages } from '../helpers.js';

// What the use-case tests share: a real SQLite store per test, in a directory of its own.

export const ORGANIZER = { id: 'usr_org', role: 'organizer' } as AuthUser;
export const OTHER_ORGANIZER = { id: 'usr_other', role: 'organizer' } as AuthUser;
export const ADMIN = { id: 'usr_admin', role: 'admin' } as AuthUser;
export const ADA = { id: 'usr_ada', name: 'Ada Lovelace', email: 'ada@example.com' };

/** Opens a store `make` builds on a fresh file before each test (SqliteEventsStore, or a fake extending it), closed after. */
export function storePerTest<S extends SqliteEventsStore>(make: (file: string) => S = (file) => new SqliteEventsStore({ file, synchronous: 'NORMAL' }) as S) {
  const current = { store: undefined as unknown as S };
  let dir: ReturnType<typeof tempDir>;
  beforeEach(() => {
    dir = tempDir('dems-events-use-case-');
    current.store = make(join(dir.path, 'events.db'));
  });
  afterEach(async () => {
    await current.store.close();
    dir.cleanup();
  });
  return current;
}

/** A published event of ORGANIZER's, stored with its EventPublished; `overrides` as in a create request. */
export const seedEvent = (store: SqliteEventsStore, overrides: Parameters<typeof eventBody>[0] = {}): Promise<EventRecord> =>
  storeNewEvent(store, buildNewEvent(CreateEventBody.parse(eventBody(overrides)), ORGANIZER.id, new Date()));

/** The messages of one type waiting for `subscriber`. */
export async function sent<T extends MessageType>(store: SqliteEventsStore, type: T, subscriber: 'ticketing' | 'engagement' = 'engagement'): Promise<Message<T>[]> {
  return (await pendingMessages(store.outbox, subscriber)).filter((m) => m.type === type) as Message<T>[];
}

/** The one message of `type` waiting for `subscriber` (failing the test unless there is exactly one). */
export async function onlyMessage<T extends MessageType>(store: SqliteEventsStore, type: T, subscriber: 'ticketing' | 'engagement' = 'engagement'): Promise<Message<T>> {
  const messages = await sent(store, type, subscriber);
  expect(messages).toHaveLength(1);
  return messages[0]!;
}

/** The AppError a promise rejects with (failing the test when it resolves or rejects with something else). */
export async function refusal(p: Promise<unknown>): Promise<AppError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AppError);
  return err as AppError;
}
