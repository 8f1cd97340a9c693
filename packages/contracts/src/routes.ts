import defaultPorts from './default-ports.json';
import type { ServiceName } from './messages.js';

/**
 * The gateway's route table: a path under /api goes to the service that owns its first segment.
 * Paths not listed (and everything under /internal) are not reachable through the gateway.
 */
export const GATEWAY_ROUTES: readonly { prefix: string; service: ServiceName }[] = [
  { prefix: '/events', service: 'events' },
  { prefix: '/register', service: 'events' },
  { prefix: '/registrations', service: 'events' },
  { prefix: '/orders', service: 'ticketing' },
  { prefix: '/tickets', service: 'ticketing' },
  { prefix: '/availability', service: 'ticketing' },
  { prefix: '/waiting-rooms', service: 'ticketing' },
  { prefix: '/users', service: 'engagement' },
  { prefix: '/sessions', service: 'engagement' },
  { prefix: '/me', service: 'engagement' },
  { prefix: '/notifications', service: 'engagement' },
  { prefix: '/announcements', service: 'engagement' },
  { prefix: '/.well-known', service: 'engagement' },
];

/** The Socket.IO path the gateway forwards (with its WebSocket upgrade) to engagement. */
export const LIVE_PATH = '/socket.io';

/**
 * Where each process listens unless told otherwise. Kept as JSON so that scripts/lib/system.mjs, which runs
 * before anything is installed or built, reads the very same numbers.
 */
export const DEFAULT_PORTS: Record<ServiceName | 'gateway', number> = defaultPorts;

/** Headers of a signed service-to-service request (HMAC-SHA256 of `${timestamp}.${body}` with SERVICE_SECRET). */
export const SIGNATURE_HEADER = 'x-dems-signature';
export const TIMESTAMP_HEADER = 'x-dems-timestamp';
