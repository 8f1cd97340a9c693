import { join } from 'node:path';
import { CachedJwks, LOG_REDACT, OutboxRelay, runService, verifierFor, type App } from '@dems/kit';
import { buildApp } from './app.js';
import { loadTicketingConfig } from './config.js';
import { SqliteTicketingStore } from './store/sqlite.js';

await runService('ticketing', async () => {
  const config = loadTicketingConfig();
  // The store and key cache are made before the app and relay they report to; these are filled in below.
  const late: { relay?: OutboxRelay; app?: App } = {};
  const kick = () => late.relay?.kick();
  const store = new SqliteTicketingStore({
    file: join(config.DATA_DIR, 'ticketing.db'),
    synchronous: config.SQLITE_SYNCHRONOUS,
    onMessagesCommitted: kick,
  });
  const jwks = new CachedJwks({
    url: `${config.ENGAGEMENT_URL}/.well-known/jwks.json`,
    cacheFile: join(config.DATA_DIR, 'jwks-cache-ticketing.json'),
    log: { warn: (o, m) => late.app?.log.warn(o, m) },
  });
  const app = await buildApp({
    store,
    verify: verifierFor(jwks.getKey),
    secret: config.SERVICE_SECRET,
    logger: { level: config.LOG_LEVEL, redact: LOG_REDACT },
    bodyLimit: config.BODY_LIMIT_BYTES,
    ordersPerUserPerMinute: config.ORDERS_PER_USER_PER_MINUTE,
    trustProxy: config.TRUST_PROXY,
    onReplay: kick,
    onClose: async () => {
      jwks.stop();
      await late.relay?.stop();
    },
  });
  late.app = app;
  const relay = new OutboxRelay({
    store: store.outbox,
    subscriberUrls: { events: config.EVENTS_URL, ticketing: config.TICKETING_URL, engagement: config.ENGAGEMENT_URL },
    secret: config.SERVICE_SECRET,
    log: app.log,
    maxAttempts: config.OUTBOX_MAX_ATTEMPTS,
  });
  late.relay = relay;
  relay.start();
  jwks.start();
  return { app, port: config.TICKETING_PORT, host: config.HOST };
});
