import { join } from 'node:path';
import { createTablesAndExit, dynamoSettings, LOG_REDACT, OutboxRelay, relayFromConfig, runService, SharedState, sheddingSettings } from '@dems/kit';
import { buildApp } from './app.js';
import { liveOrigins, loadEngagementConfig } from './config.js';
import { Accounts } from './identity/accounts.js';
import { sessionVerifier } from './identity/session-tokens.js';
import { SigningKeys } from './identity/signing-keys.js';
import { LiveNotifications } from './live/live-notifications.js';
import { attachSocketIo } from './live/socket-io.js';
import { LiveWaitingRooms, ticketingLookup } from './live/waiting-rooms.js';
import type { EngagementStore } from './store/engagement-store.js';
import { SqliteEngagementStore } from './store/sqlite.js';

// The DynamoDB adapter (and the AWS SDK) is loaded only when configured.
const dynamo = () => import('./store/dynamodb.js');

if (process.argv.includes('--create-tables')) {
  await createTablesAndExit('engagement', async (log) => new (await dynamo()).DynamoEngagementStore({ settings: dynamoSettings(loadEngagementConfig()) }).createTables(log));
}

await runService('engagement', async () => {
  const config = loadEngagementConfig();
  // The store and the relay need each other: the store kicks the relay after commits that enqueued messages.
  const relayRef: { current?: OutboxRelay } = {};
  const onMessagesCommitted = () => relayRef.current?.kick();
  let store: EngagementStore;
  if (config.STORE === 'dynamodb') {
    const dynamoStore = new (await dynamo()).DynamoEngagementStore({ settings: dynamoSettings(config), onMessagesCommitted });
    if (config.DYNAMODB_CREATE_TABLES) await dynamoStore.createTables();
    store = dynamoStore;
  } else {
    store = new SqliteEngagementStore({ file: join(config.DATA_DIR, 'engagement.db'), synchronous: config.SQLITE_SYNCHRONOUS, onMessagesCommitted });
  }
  const keys = await SigningKeys.load({
    file: join(config.DATA_DIR, 'engagement-signing-keys.json'),
    envJwk: config.JWT_SIGNING_KEY,
    tokenTtlSeconds: config.ACCESS_TOKEN_TTL_SECONDS,
    ledger: store,
    reset: config.JWT_SIGNING_KEY_RESET,
  });
  const live = new LiveNotifications();
  const waitingRooms = new LiveWaitingRooms(ticketingLookup(config.TICKETING_URL[0]!));
  // Sign-in limits, spent challenges and live sockets, shared by the replicas through Redis when REDIS_URL is set.
  const shared = SharedState.forUrl(config.REDIS_URL);
  const app = await buildApp({
    store,
    keys,
    live,
    waitingRooms,
    shared,
    secret: config.SERVICE_SECRET,
    tokenTtlSeconds: config.ACCESS_TOKEN_TTL_SECONDS,
    refreshTtlSeconds: config.REFRESH_TOKEN_TTL_SECONDS,
    accountLimits: {
      loginFailuresPerAccount: config.LOGIN_FAILURES_PER_ACCOUNT,
      loginFailuresPerAddress: config.LOGIN_FAILURES_PER_ADDRESS,
      loginWindowSeconds: config.LOGIN_THROTTLE_WINDOW_SECONDS,
      loginChallengeMaxBits: config.LOGIN_CHALLENGE_MAX_BITS,
      signUpsPerAddress: config.SIGNUPS_PER_ADDRESS_PER_HOUR,
    },
    announcementLimits: { perEventPerHour: config.ANNOUNCEMENTS_PER_EVENT_PER_HOUR, perEventTotal: config.ANNOUNCEMENTS_PER_EVENT },
    trustProxy: config.TRUST_PROXY,
    logger: { level: config.LOG_LEVEL, redact: LOG_REDACT },
    bodyLimit: config.BODY_LIMIT_BYTES,
    shedding: sheddingSettings(config),
    onReplay: () => relayRef.current?.kick(),
  });
  await shared.connect(app.log);
  // Closed after the live sockets (preClose), whose Redis adapter uses it.
  app.addHook('onClose', async () => shared.close());
  attachSocketIo(app, {
    authenticate: sessionVerifier(keys.verifier(), store),
    live,
    allowedOrigins: liveOrigins(config),
    maxConnectionsPerUser: config.LIVE_MAX_CONNECTIONS_PER_USER,
    redis: shared.redis,
    waitingRooms,
  });

  // Engagement publishes nothing today; the relay is here so dead letters and future messages just work.
  const relay = relayFromConfig('engagement', config, store.outbox, app.log);
  relayRef.current = relay;
  relay.start();
  app.addHook('preClose', async () => relay.stop());

  if (config.ADMIN_EMAIL && config.ADMIN_PASSWORD) {
    const accounts = new Accounts(store, keys, {
      accessTtlSeconds: config.ACCESS_TOKEN_TTL_SECONDS,
      refreshTtlSeconds: config.REFRESH_TOKEN_TTL_SECONDS,
      secret: config.SERVICE_SECRET,
    });
    const outcome = await accounts.ensureAdmin(config.ADMIN_EMAIL, config.ADMIN_PASSWORD);
    if (outcome === 'taken-by-non-admin') {
      app.log.error({ email: config.ADMIN_EMAIL }, 'ADMIN_EMAIL belongs to an account that is not an admin; it was not promoted. Choose another ADMIN_EMAIL.');
    } else {
      app.log.info({ email: config.ADMIN_EMAIL, outcome }, 'bootstrap admin account');
    }
  }
  return { app, port: config.ENGAGEMENT_PORT, host: config.HOST, config };
});
