import { createHash } from 'node:crypto';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { SERVICE_NAMES, type ServiceName } from '@dems/contracts';
import { FilesystemBannerStore, Upstreams, type App, type OutboxStore } from '@dems/kit';
import { deliver, TEST_SECRET, tempDir } from '@dems/kit/testing';
import { buildApp as buildEngagement } from '../../services/engagement/src/app.js';
import type { AccountLimits } from '../../services/engagement/src/identity/accounts.js';
import { Accounts } from '../../services/engagement/src/identity/accounts.js';
import { SigningKeys } from '../../services/engagement/src/identity/signing-keys.js';
import { SqliteEngagementStore } from '../../services/engagement/src/store/sqlite.js';
import { buildApp as buildEvents } from '../../services/events/src/app.js';
import { SqliteEventsStore } from '../../services/events/src/store/sqlite.js';
import { ticketingInventory } from '../../services/events/src/ticketing/inventory.js';
import { buildApp as buildTicketing } from '../../services/ticketing/src/app.js';
import { SqliteTicketingStore } from '../../services/ticketing/src/store/sqlite.js';
import { SqliteWaitingRoomStore } from '../../services/ticketing/src/waiting-room/store/sqlite.js';

export const ADMIN = { email: 'root@example.com', password: 'an admin passphrase' };

/**
 * The three services as production builds them (buildApp around real SQLite files), in this process, with
 * messages carried between them by `settle()` exactly as the relay would (signed POST /internal/messages).
 * No timers run: the stores change only through requests and settle(), so a test can compare them.
 */
export async function startInProcess(opts: { accountLimits?: Partial<AccountLimits>; ordersPerUserPerMinute?: number } = {}) {
  const dir = tempDir('dems-in-process-');
  const files = {
    events: join(dir.path, 'events.db'),
    ticketing: join(dir.path, 'ticketing.db'),
    engagement: join(dir.path, 'engagement.db'),
  } satisfies Record<ServiceName, string>;
  const keys = await SigningKeys.load({ file: join(dir.path, 'engagement-signing-keys.json'), tokenTtlSeconds: 900 });
  const stores = {
    events: new SqliteEventsStore({ file: files.events, synchronous: 'NORMAL' }),
    ticketing: new SqliteTicketingStore({ file: files.ticketing, synchronous: 'NORMAL' }),
    engagement: new SqliteEngagementStore({ file: files.engagement, synchronous: 'NORMAL' }),
  };
  const verify = keys.verifier();
  // Events asks ticketing to confirm capacity changes over HTTP; here the same signed request goes to the
  // ticketing app in this process.
  const toTicketing: typeof fetch = async (url, init) => {
    const res = await apps.ticketing.inject({
      method: 'POST',
      url: new URL(String(url)).pathname,
      headers: init?.headers as Record<string, string>,
      payload: String(init?.body),
    });
    return new Response(res.body, { status: res.statusCode, headers: { 'content-type': String(res.headers['content-type']) } });
  };
  const inventory = ticketingInventory({
    ticketing: new Upstreams({ service: 'ticketing', urls: 'http://ticketing.in-process', fetch: toTicketing }),
    secret: TEST_SECRET,
  });
  const apps: Record<ServiceName, App> = {
    events: await buildEvents({ store: stores.events, banners: { store: new FilesystemBannerStore(join(dir.path, 'banners')) }, verify, secret: TEST_SECRET, inventory }),
    ticketing: await buildTicketing({
      store: stores.ticketing,
      waitingRooms: new SqliteWaitingRoomStore({ file: files.ticketing, synchronous: 'NORMAL' }),
      verify,
      secret: TEST_SECRET,
      ordersPerUserPerMinute: opts.ordersPerUserPerMinute,
    }),
    engagement: await buildEngagement({ store: stores.engagement, keys, secret: TEST_SECRET, tokenTtlSeconds: 900, accountLimits: opts.accountLimits }),
  };
  // The first admin comes from configuration only, as main.ts does with ADMIN_EMAIL / ADMIN_PASSWORD.
  await new Accounts(stores.engagement, keys, { accessTtlSeconds: 900, refreshTtlSeconds: 3600, secret: TEST_SECRET }).ensureAdmin(ADMIN.email, ADMIN.password);
  const outboxes: Record<ServiceName, OutboxStore> = {
    events: stores.events.outbox,
    ticketing: stores.ticketing.outbox,
    engagement: stores.engagement.outbox,
  };

  /** Delivers every pending message to its subscribers until no service owes anything. */
  async function settle(): Promise<number> {
    let delivered = 0;
    for (let round = 0; round < 20; round++) {
      let moved = 0;
      for (const from of SERVICE_NAMES) {
        for (const to of SERVICE_NAMES) {
          const entries = await outboxes[from].claimDue(to, 500, Date.now(), 60_000);
          if (!entries.length) continue;
          const res = await deliver(
            apps[to],
            entries.map((e) => e.message),
          );
          if (res.statusCode !== 200) throw new Error(`delivery ${from} → ${to} failed: ${res.statusCode} ${res.body}`);
          await outboxes[from].markDelivered(entries.map((e) => e.id));
          moved += entries.length;
        }
      }
      delivered += moved;
      if (moved === 0) return delivered;
    }
    throw new Error('messages kept flowing after 20 rounds');
  }

  /** A digest of every row of every table of one service's SQLite file (read through a separate connection). */
  function digest(service: ServiceName): string {
    const db = new Database(files[service], { readonly: true, fileMustExist: true });
    try {
      const hash = createHash('sha256');
      const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as { name: string }[];
      for (const { name } of tables) {
        hash.update(`\n#${name}\n`);
        for (const row of db.prepare(`SELECT * FROM "${name}" ORDER BY rowid`).iterate()) hash.update(JSON.stringify(row));
      }
      return hash.digest('hex');
    } finally {
      db.close();
    }
  }

  return {
    apps,
    stores,
    keys,
    settle,
    digest,
    digests: () => Object.fromEntries(SERVICE_NAMES.map((s) => [s, digest(s)])) as Record<ServiceName, string>,
    async close() {
      await Promise.all(Object.values(apps).map((a) => a.close()));
      dir.cleanup();
    },
  };
}

export type InProcess = Awaited<ReturnType<typeof startInProcess>>;

let seq = 0;

/** Signs up (for attendee/organizer) and signs in through the real engagement routes. */
export async function account(sys: InProcess, role: 'attendee' | 'organizer' | 'admin', label: string = role) {
  const email = role === 'admin' ? ADMIN.email : `${label}-${Date.now()}-${seq++}@example.com`;
  const password = role === 'admin' ? ADMIN.password : 'correct horse battery';
  if (role !== 'admin') {
    const created = await sys.apps.engagement.inject({ method: 'POST', url: '/users', payload: { email, password, name: label, role } });
    if (created.statusCode !== 201) throw new Error(`sign-up failed: ${created.body}`);
  }
  const session = await sys.apps.engagement.inject({ method: 'POST', url: '/sessions', payload: { email, password } });
  if (session.statusCode !== 200) throw new Error(`sign-in failed: ${session.body}`);
  const body = session.json() as { token: string; refreshToken: string; user: { id: string } };
  return { id: body.user.id, email, password, token: body.token, refreshToken: body.refreshToken, auth: { authorization: `Bearer ${body.token}` } };
}

export type Account = Awaited<ReturnType<typeof account>>;

export const inDays = (days: number, hours = 0) => new Date(Date.now() + days * 86_400_000 + hours * 3_600_000).toISOString();

export function eventBody(title = 'Jazz Night') {
  return {
    title,
    description: 'Live jazz.',
    venue: 'Blue Note Hall',
    timezone: 'Europe/Berlin',
    startsAt: inDays(7),
    endsAt: inDays(7, 3),
    ticketTypes: [{ name: 'General', priceCents: 2500, currency: 'EUR', capacity: 100 }],
  };
}
