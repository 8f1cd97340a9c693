import { join } from 'node:path';
import {
  bannerStoreSettings,
  CachedJwks,
  createTablesAndExit,
  dynamoSettings,
  LOG_REDACT,
  openBannerStore,
  relayFromConfig,
  runService,
  SharedState,
  sheddingSettings,
  Upstreams,
  verifierFor,
} from '@dems/kit';
import { buildApp } from './app.js';
import { loadEventsConfig } from './config.js';
import type { EventsStore } from './store/events-store.js';
import { SqliteEventsStore } from './store/sqlite.js';
import { ticketingInventory } from './ticketing/inventory.js';

// The DynamoDB adapter (and the AWS SDK) is loaded only when configured.
const dynamo = () => import('./store/dynamodb.js');

if (process.argv.includes('--create-tables')) {
  await createTablesAndExit('events', async (log) => new (await dynamo()).DynamoEventsStore({ settings: dynamoSettings(loadEventsConfig()) }).createTables(log));
}

await runService('events', async () => {
  const config = loadEventsConfig();
  // The relay and the key set log through the app's logger, so they are created once the app exists;
  // the closures below only run after that (nothing is served before listen).
  const kick = () => relay.kick();
  let store: EventsStore;
  if (config.STORE === 'dynamodb') {
    const dynamoStore = new (await dynamo()).DynamoEventsStore({ settings: dynamoSettings(config), onMessagesCommitted: kick });
    if (config.DYNAMODB_CREATE_TABLES) await dynamoStore.createTables();
    store = dynamoStore;
  } else {
    store = new SqliteEventsStore({ file: join(config.DATA_DIR, 'events.db'), synchronous: config.SQLITE_SYNCHRONOUS, onMessagesCommitted: kick });
  }
  const ticketing = new Upstreams({ service: 'ticketing', urls: config.TICKETING_URL, log: { info: (o, m) => app.log.info(o, m), warn: (o, m) => app.log.warn(o, m) } });
  // The publishing limit, shared by the replicas through Redis when REDIS_URL is set.
  const shared = SharedState.forUrl(config.REDIS_URL);
  const app = await buildApp({
    store,
    banners: { store: await openBannerStore(bannerStoreSettings(config)), publicUrl: config.BANNER_PUBLIC_URL },
    shared,
    inventory: ticketingInventory({ ticketing, secret: config.SERVICE_SECRET }),
    verify: (token) => verifyToken(token),
    secret: config.SERVICE_SECRET,
    logger: { level: config.LOG_LEVEL, redact: LOG_REDACT },
    bodyLimit: config.BODY_LIMIT_BYTES,
    shedding: sheddingSettings(config),
    trustProxy: config.TRUST_PROXY,
    eventsPerOrganizerPerDay: config.EVENTS_PER_ORGANIZER_PER_DAY,
    publicCache: { sMaxAgeSeconds: config.PUBLIC_CACHE_SECONDS, staleSeconds: config.PUBLIC_CACHE_STALE_SECONDS, ttlMs: config.READ_CACHE_TTL_MS },
    onReplay: kick,
    onClose: async () => {
      jwks.stop();
      ticketing.stop();
      await relay.stop();
      await shared.close();
    },
  });
  await shared.connect(app.log);
  const relay = relayFromConfig('events', config, store.outbox, app.log);
  const jwks = new CachedJwks({
    engagementUrls: config.ENGAGEMENT_URL,
    cacheFile: join(config.DATA_DIR, 'jwks-cache-events.json'),
    log: app.log,
  });
  const verifyToken = verifierFor(jwks.getKey);
  relay.start();
  jwks.start();
  return { app, port: config.EVENTS_PORT, host: config.HOST, config };
});
