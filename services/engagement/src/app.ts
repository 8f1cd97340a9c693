import { AppError, createServiceApp, messageLag, registerAuth, registerInternalRoutes, type App, type ServiceDeps } from '@dems/kit';
import { z } from 'zod';
import { DEFAULT_ANNOUNCEMENT_LIMITS, type AnnouncementLimits } from './domain/announcement-limits.js';
import { Accounts, type AccountLimits } from './identity/accounts.js';
import type { SigningKeys } from './identity/signing-keys.js';
import { LiveNotifications } from './live/live-notifications.js';
import { LiveWaitingRooms } from './live/waiting-rooms.js';
import { messageBatchHandler } from './messages/handlers.js';
import { announcementRoutes } from './routes/announcements.js';
import { identityRoutes } from './routes/identity.js';
import { notificationRoutes } from './routes/notifications.js';
import type { EngagementStore } from './store/engagement-store.js';

export interface EngagementDeps extends ServiceDeps {
  store: EngagementStore;
  keys: SigningKeys;
  /** Access-token lifetime (config caps it at 15 minutes). */
  tokenTtlSeconds?: number;
  /** Refresh-token lifetime. */
  refreshTtlSeconds?: number;
  /** Sign-in and sign-up throttles (defaults in identity/accounts.ts), counted in `shared` with spent sign-in challenges. */
  accountLimits?: Partial<AccountLimits>;
  /** Announcements per event (defaults in domain/announcement-limits.ts). */
  announcementLimits?: Partial<AnnouncementLimits>;
  /** Where committed notifications go for live push; Socket.IO subscribes to it in serve.ts. */
  live?: LiveNotifications;
  /** The waiting rooms' live settings, fed by WaitingRoomChanged; Socket.IO pushes them to watchers (serve.ts). */
  waitingRooms?: LiveWaitingRooms;
}

/** The whole engagement service as production runs it; tests build exactly this around a real SQLite file. */
export async function buildApp(deps: EngagementDeps): Promise<App> {
  const app = await createServiceApp({
    ...deps,
    name: 'engagement',
    description: 'User Engagement: accounts, access tokens, notifications (with live push over Socket.IO) and announcements.',
    isReady: () => deps.store.isReady(),
  });
  const live = deps.live ?? new LiveNotifications(app.log);
  const waitingRooms = deps.waitingRooms ?? new LiveWaitingRooms();
  const accounts = new Accounts(deps.store, deps.keys, {
    accessTtlSeconds: deps.tokenTtlSeconds ?? 900,
    refreshTtlSeconds: deps.refreshTtlSeconds ?? 30 * 24 * 3600,
    limits: deps.accountLimits,
    secret: deps.secret,
    live,
    shared: deps.shared,
  });

  registerAuth(app, deps.keys.verifier(), 'engagement');
  identityRoutes(app, { accounts, store: deps.store, keys: deps.keys });
  notificationRoutes(app, { store: deps.store });
  announcementRoutes(app, { store: deps.store, live, limits: { ...DEFAULT_ANNOUNCEMENT_LIMITS, ...deps.announcementLimits } });
  await registerInternalRoutes(app, {
    secret: deps.secret,
    applyBatch: messageBatchHandler({ store: deps.store, live, waitingRooms, lag: messageLag(app) }),
    outbox: deps.store.outbox,
    onReplay: deps.onReplay,
    // The operator's key rotation (npm run rotate-signing-key): signed like every /internal request.
    extra: (internal) =>
      internal.post('/internal/signing-keys/rotate', { schema: { hide: true } }, async (req) => {
        const body = z.strictObject({ activateAfterSeconds: z.number().int().min(0).max(86_400).optional() }).safeParse(req.body ?? {});
        if (!body.success) throw new AppError('VALIDATION_FAILED', 'Expected { activateAfterSeconds?: integer seconds }.');
        const rotated = await deps.keys.rotate({ activateAfterSeconds: body.data.activateAfterSeconds });
        req.log.info(rotated, 'signing key rotated');
        return rotated;
      }),
  });

  app.addHook('onClose', async () => {
    await deps.onClose?.();
    await deps.store.close();
  });
  return app;
}
