import { join } from 'node:path';
import {
  CachedJwks,
  createTablesAndExit,
  dynamoSettings,
  LOG_REDACT,
  OutboxRelay,
  relayFromConfig,
  runService,
  SharedState,
  sheddingSettings,
  verifierFor,
  type App,
} from '@dems/kit';
import { buildApp } from './app.js';
import { loadTicketingConfig } from './config.js';
import { SqliteTicketingStore } from './store/sqlite.js';
import { SqliteWaitingRoomStore } from './waiting-room/store/sqlite.js';
import type { TicketingStore } from './store/ticketing-store.js';
import type { WaitingRoomStore } from './waiting-room/store/waiting-room-store.js';

// The DynamoDB adapter (and the AWS SDK) is loaded only when configured.
const dynamo = () => import('./store/dynamodb.js');

if (process.argv.includes('--create-tables') || process.argv.includes('--migrate-tables')) {
  await createTablesAndExit('ticketing', async (log) => {
    const settings = dynamoSettings(loadTicketingConfig());
    await new (await dynamo()).DynamoTicketingStore({ settings }).createTables(log);
    // Upgrading a deployment from the separate TicketingEvents/Inventory/Orders tables (docs/dynamodb.md).
    if (process.argv.includes('--migrate-tables')) await (await import('./store/dynamodb-migration.js')).migrateTicketingTables(settings, log);
  });
}

await runService('ticketing', async () => {
  const config = loadTicketingConfig();
  // The store and key cache are made before the app and relay they report to; these are filled in below.
  const late: { relay?: OutboxRelay; app?: App } = {};
  const kick = () => late.relay?.kick();
  let store: TicketingStore;
  let waitingRooms: WaitingRoomStore;
  if (config.STORE === 'dynamodb') {
    const dynamoStore = new (await dynamo()).DynamoTicketingStore({
      settings: dynamoSettings(config),
      shards: (eventId) => config.INVENTORY_SHARDS_BY_EVENT.get(eventId) ?? config.INVENTORY_SHARDS,
      onMessagesCommitted: kick,
    });
    if (config.DYNAMODB_CREATE_TABLES) await dynamoStore.createTables();
    store = dynamoStore;
    const { DynamoWaitingRoomStore } = await import('./waiting-room/store/dynamodb.js');
    waitingRooms = new DynamoWaitingRoomStore({ settings: dynamoSettings(config), outbox: dynamoStore.outbox, onMessagesCommitted: kick });
  } else {
    const file = join(config.DATA_DIR, 'ticketing.db');
    store = new SqliteTicketingStore({ file, synchronous: config.SQLITE_SYNCHRONOUS, onMessagesCommitted: kick });
    // Its own connection to the same file, opened after the store has migrated it.
    waitingRooms = new SqliteWaitingRoomStore({ file, synchronous: config.SQLITE_SYNCHRONOUS, onMessagesCommitted: kick });
  }
  const jwks = new CachedJwks({
    engagementUrls: config.ENGAGEMENT_URL,
    cacheFile: join(config.DATA_DIR, 'jwks-cache-ticketing.json'),
    log: { warn: (o, m) => late.app?.log.warn(o, m) },
  });
  // The purchase limit, shared by the replicas through Redis when REDIS_URL is set.
  const shared = SharedState.forUrl(config.REDIS_URL);
  const app = await buildApp({
    store,
    waitingRooms,
    waitingRoomAdmitPerMinute: config.WAITING_ROOM_ADMIT_PER_MINUTE,
    shared,
    verify: verifierFor(jwks.getKey),
    secret: config.SERVICE_SECRET,
    logger: { level: config.LOG_LEVEL, redact: LOG_REDACT },
    bodyLimit: config.BODY_LIMIT_BYTES,
    shedding: sheddingSettings(config),
    ordersPerUserPerMinute: config.ORDERS_PER_USER_PER_MINUTE,
    trustProxy: config.TRUST_PROXY,
    onReplay: kick,
    onClose: async () => {
      jwks.stop();
      await late.relay?.stop();
      await shared.close();
    },
  });
  late.app = app;
  await shared.connect(app.log);
  const relay = relayFromConfig('ticketing', config, store.outbox, app.log);
  late.relay = relay;
  relay.start();
  jwks.start();
  return { app, port: config.TICKETING_PORT, host: config.HOST, config };
});
