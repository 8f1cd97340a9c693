import { join } from 'node:path';
import { CachedJwks, LOG_REDACT, OutboxRelay, runService, verifierFor } from '@dems/kit';
import { buildApp } from './app.js';
import { loadEventsConfig } from './config.js';
import { SqliteEventsStore } from './store/sqlite.js';

await runService('events', async () => {
  const config = loadEventsConfig();
  // The relay and the key set log through the app's logger, so they are created once the app exists;
  // the closures below only run after that (nothing is served before listen).
  const kick = () => relay.kick();
  const store = new SqliteEventsStore({
    file: join(config.DATA_DIR, 'events.db'),
    synchronous: config.SQLITE_SYNCHRONOUS,
    onMessagesCommitted: kick,
  });
  const app = await buildApp({
    store,
    verify: (token) => verifyToken(token),
    secret: config.SERVICE_SECRET,
    logger: { level: config.LOG_LEVEL, redact: LOG_REDACT },
    bodyLimit: config.BODY_LIMIT_BYTES,
    trustProxy: config.TRUST_PROXY,
    onReplay: kick,
    onClose: async () => {
      jwks.stop();
      await relay.stop();
    },
  });
  const relay = new OutboxRelay({
    store: store.outbox,
    subscriberUrls: { events: config.EVENTS_URL, ticketing: config.TICKETING_URL, engagement: config.ENGAGEMENT_URL },
    secret: config.SERVICE_SECRET,
    log: app.log,
    maxAttempts: config.OUTBOX_MAX_ATTEMPTS,
  });
  const jwks = new CachedJwks({
    url: `${config.ENGAGEMENT_URL}/.well-known/jwks.json`,
    cacheFile: join(config.DATA_DIR, 'jwks-cache-events.json'),
    log: app.log,
  });
  const verifyToken = verifierFor(jwks.getKey);
  relay.start();
  jwks.start();
  return { app, port: config.EVENTS_PORT, host: config.HOST };
});
