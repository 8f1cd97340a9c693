import { createServiceApp, registerAuth, registerInternalRoutes, SharedState, type App, type ServiceDeps, type TokenVerifier } from '@dems/kit';
import { messageBatchHandler } from './messages/handlers.js';
import { availabilityRoutes } from './routes/availability.js';
import { capacityRoute } from './routes/capacity.js';
import { orderRoutes } from './routes/orders.js';
import { ticketRoutes } from './routes/tickets.js';
import type { TicketingStore } from './store/ticketing-store.js';
import { WaitingRooms } from './waiting-room/rooms.js';
import { waitingRoomRoutes } from './waiting-room/routes.js';
import type { WaitingRoomStore } from './waiting-room/store/waiting-room-store.js';
import { QueueTokens } from './waiting-room/tokens.js';

export interface TicketingDeps extends ServiceDeps {
  store: TicketingStore;
  verify: TokenVerifier;
  /** Purchases one user may make per minute (429 RATE_LIMITED with Retry-After beyond); default 30. */
  ordersPerUserPerMinute?: number;
  /** Queued sales (serve.ts opens it beside the store); without it no sale is queued and /waiting-rooms answers 404. */
  waitingRooms?: WaitingRoomStore;
  /** WAITING_ROOM_ADMIT_PER_MINUTE: the admission rate of a room whose organizer gives none; default 600. */
  waitingRoomAdmitPerMinute?: number;
}

/** The ticketing service as production runs it; tests build exactly this with a real SQLite store. */
export async function buildApp(deps: TicketingDeps): Promise<App> {
  const { store } = deps;
  const app = await createServiceApp({
    ...deps,
    name: 'ticketing',
    description: 'Inventory, orders and tickets. Purchases never oversell and are safe to retry with an Idempotency-Key.',
    isReady: () => store.isReady(),
  });
  registerAuth(app, deps.verify, 'ticketing');
  const rooms = deps.waitingRooms && waitingRoomsOf(deps.waitingRooms, store, deps);
  orderRoutes(
    app,
    store,
    (deps.shared ?? new SharedState()).throttle({ name: 'ticketing:purchases', limit: deps.ordersPerUserPerMinute ?? 30, windowMs: 60_000 }),
    rooms && ((purchase) => rooms.admitPurchase(purchase.userId, purchase.eventId, purchase.pass, purchase.idempotencyKey)),
  );
  if (rooms) waitingRoomRoutes(app, rooms);
  ticketRoutes(app, store);
  availabilityRoutes(app, store);
  await registerInternalRoutes(app, {
    secret: deps.secret,
    applyBatch: messageBatchHandler(store),
    outbox: store.outbox,
    onReplay: deps.onReplay,
    extra: (internal) => capacityRoute(internal, store),
  });
  app.addHook('onClose', async () => {
    await deps.onClose?.();
    await rooms?.close();
    await store.close();
  });
  return app;
}

/** The waiting rooms' rules over their store; a room is sold out when none of the event's ticket types has a seat left. */
function waitingRoomsOf(roomStore: WaitingRoomStore, store: TicketingStore, deps: TicketingDeps): WaitingRooms {
  return new WaitingRooms({
    store: roomStore,
    tokens: new QueueTokens(deps.secret),
    defaultAdmitPerMinute: deps.waitingRoomAdmitPerMinute ?? 600,
    remaining: async (eventId) => {
      const availability = await store.getAvailability(eventId);
      return availability && availability.ticketTypes.reduce((sum, t) => sum + Math.max(0, t.remaining), 0);
    },
  });
}
