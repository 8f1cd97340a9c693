import { createServiceApp, registerAuth, registerInternalRoutes, SharedState, type App, type BannerStore, type ServiceDeps, type TokenVerifier } from '@dems/kit';
import type { BannerImages } from './banners/banner-images.js';
import { sharpImages } from './banners/sharp-images.js';
import { messageHandlers } from './messages/handlers.js';
import { bannerRoutes } from './routes/banner.js';
import { eventRoutes } from './routes/events.js';
import type { PublicCacheSettings } from './routes/public-reads.js';
import { registrationRoutes } from './routes/registrations.js';
import type { EventsStore } from './store/events-store.js';
import type { TicketingInventory } from './ticketing/inventory.js';

export interface EventsAppDeps extends ServiceDeps {
  store: EventsStore;
  /** Ticketing, which confirms capacity changes against its sales (serve.ts: over HTTP). */
  inventory: TicketingInventory;
  /**
   * Banners: where the files go (BANNER_STORE), how uploads are checked and rendered (default: sharp), and the start
   * of their URLs (BANNER_PUBLIC_URL, default /banners).
   */
  banners: { store: BannerStore; images?: BannerImages; publicUrl?: string };
  verify: TokenVerifier;
  /** Events one organizer may publish per day (429 RATE_LIMITED beyond); default 50. */
  eventsPerOrganizerPerDay?: number;
  /**
   * Public reads served from memory (routes/public-reads.ts): Cache-Control s-maxage and stale-while-revalidate in
   * seconds (default 1 and 5), and how long an answer may be kept where the store cannot see other replicas' writes
   * (ms, default 1000).
   */
  publicCache?: PublicCacheSettings;
}

/** The Event Registration service: events, ticket types and RSVPs. Tests build exactly this. */
export async function buildApp(deps: EventsAppDeps): Promise<App> {
  const app = await createServiceApp({
    ...deps,
    name: 'events',
    description: 'Event Registration: publish, search and change events; register (RSVP) for them.',
    isReady: () => deps.store.isReady(),
  });
  registerAuth(app, deps.verify, 'events');
  await registerInternalRoutes(app, { secret: deps.secret, apply: messageHandlers(deps.store), outbox: deps.store.outbox, onReplay: deps.onReplay });
  const bannerBaseUrl = deps.banners.publicUrl ?? '/banners';
  await eventRoutes(app, {
    store: deps.store,
    inventory: deps.inventory,
    publishing: (deps.shared ?? new SharedState()).throttle({ name: 'events:publishing', limit: deps.eventsPerOrganizerPerDay ?? 50, windowMs: 24 * 3_600_000 }),
    bannerBaseUrl,
    publicCache: deps.publicCache ?? {},
  });
  await bannerRoutes(app, { store: deps.store, banners: deps.banners.store, images: deps.banners.images ?? sharpImages(), bannerBaseUrl });
  await registrationRoutes(app, { store: deps.store });
  app.addHook('onClose', async () => {
    await deps.onClose?.();
    await deps.banners.store.close();
    await deps.store.close();
  });
  return app;
}
