import type { FastifyServerOptions } from 'fastify';
import { createServiceApp, registerAuth, registerInternalRoutes, type App } from '@dems/kit';
import { Accounts } from './identity/accounts.js';
import type { SigningKeys } from './identity/signing-keys.js';
import { LiveNotifications } from './live/live-notifications.js';
import { messageHandler } from './messages/handlers.js';
import { announcementRoutes } from './routes/announcements.js';
import { identityRoutes } from './routes/identity.js';
import { notificationRoutes } from './routes/notifications.js';
import type { EngagementStore } from './store/engagement-store.js';

export interface EngagementDeps {
  store: EngagementStore;
  keys: SigningKeys;
  /** SERVICE_SECRET: signs /internal requests between services. */
  secret: string;
  tokenTtlSeconds?: number;
  /** Where committed notifications go for live push; Socket.IO subscribes to it in main.ts. */
  live?: LiveNotifications;
  logger?: FastifyServerOptions['logger'];
  bodyLimit?: number;
  /** Called when an operator replays a dead letter (main.ts kicks the relay). */
  onReplay?: () => void;
}

/** The whole engagement service as production runs it; tests build exactly this around a real SQLite file. */
export async function buildApp(deps: EngagementDeps): Promise<App> {
  const app = await createServiceApp({
    name: 'engagement',
    description: 'User Engagement: accounts, access tokens, notifications (with live push over Socket.IO) and announcements.',
    logger: deps.logger,
    bodyLimit: deps.bodyLimit,
    isReady: () => deps.store.ping(),
  });
  const live = deps.live ?? new LiveNotifications(app.log);
  const accounts = new Accounts(deps.store, deps.keys, deps.tokenTtlSeconds ?? 28_800);

  registerAuth(app, deps.keys.verifier());
  identityRoutes(app, { accounts, store: deps.store, keys: deps.keys });
  notificationRoutes(app, { store: deps.store });
  announcementRoutes(app, { store: deps.store, live });
  await registerInternalRoutes(app, {
    secret: deps.secret,
    apply: messageHandler(deps.store, live),
    outbox: deps.store.outbox,
    onReplay: deps.onReplay,
  });

  app.addHook('onClose', async () => {
    await deps.store.close();
  });
  return app;
}
