import { z } from 'zod';
import { DEFAULT_PORTS, NewPassword, passwordIsEmail } from '@dems/contracts';
import { BaseConfig, commaList, loadConfig, Port } from '@dems/kit';
import { REFRESH_TOKEN_MAX_LIFETIME_SECONDS } from './store/engagement-store.js';

export const EngagementConfig = BaseConfig.extend({
  ENGAGEMENT_PORT: Port.default(DEFAULT_PORTS.engagement),
  /** Lifetime of an access token: short, since services verify it locally and cannot revoke it early. */
  ACCESS_TOKEN_TTL_SECONDS: z.coerce.number().int().min(60).max(900, 'must be at most 900 (15 minutes)').default(900),
  /** Lifetime of a refresh token (each use replaces it with a new one). */
  REFRESH_TOKEN_TTL_SECONDS: z.coerce
    .number()
    .int()
    .min(300)
    .max(REFRESH_TOKEN_MAX_LIFETIME_SECONDS)
    .default(30 * 24 * 3600),
  /** Failed sign-ins per account, and per client address, within LOGIN_THROTTLE_WINDOW_SECONDS before sign-in needs a solved challenge. */
  LOGIN_FAILURES_PER_ACCOUNT: z.coerce.number().int().min(1).max(10_000).default(10),
  LOGIN_FAILURES_PER_ADDRESS: z.coerce.number().int().min(1).max(100_000).default(50),
  LOGIN_THROTTLE_WINDOW_SECONDS: z.coerce.number().int().min(1).max(86_400).default(900),
  /** The hardest sign-in challenge (leading zero bits of SHA-256; each bit doubles the work): 16 takes a phone a second or two. */
  LOGIN_CHALLENGE_MAX_BITS: z.coerce.number().int().min(1).max(24).default(16),
  /** Sign-ups allowed per client address per hour. */
  SIGNUPS_PER_ADDRESS_PER_HOUR: z.coerce.number().int().min(1).max(100_000).default(20),
  /** Announcements one event may send per hour, and in all: its audience hears real news, not a stream. */
  ANNOUNCEMENTS_PER_EVENT_PER_HOUR: z.coerce.number().int().min(1).max(1000).default(10),
  ANNOUNCEMENTS_PER_EVENT: z.coerce.number().int().min(1).max(100_000).default(100),
  /** Live (Socket.IO) connections one user may hold at once (one per open tab). */
  LIVE_MAX_CONNECTIONS_PER_USER: z.coerce.number().int().min(1).max(1000).default(20),
  /**
   * A private Ed25519 JWK (JSON), or a JSON list of them of which the last signs and all are published. When unset
   * the key is created once and kept in DATA_DIR; required with REDIS_URL (several replicas share one key).
   */
  JWT_SIGNING_KEY: z.string().min(1).optional(),
  /** Lets a start replace a lost key file with a new key (which signs everyone out); without it such a start is refused. */
  JWT_SIGNING_KEY_RESET: z.stringbool().default(false),
  ADMIN_EMAIL: z.email().optional(),
  ADMIN_PASSWORD: NewPassword.optional(),
  /** The gateway's port: browsers load the web app from it, so its local origins may open the live socket. */
  GATEWAY_PORT: Port.default(DEFAULT_PORTS.gateway),
  /** Further browser origins allowed to open the live socket (comma separated), e.g. the CloudFront domain. */
  LIVE_ALLOWED_ORIGINS: commaList(),
}).superRefine((c, ctx) => {
  if (Boolean(c.ADMIN_EMAIL) !== Boolean(c.ADMIN_PASSWORD)) {
    ctx.addIssue({
      code: 'custom',
      path: [c.ADMIN_EMAIL ? 'ADMIN_PASSWORD' : 'ADMIN_EMAIL'],
      message: 'ADMIN_EMAIL and ADMIN_PASSWORD must be set together',
    });
  }
  if (c.ADMIN_EMAIL && c.ADMIN_PASSWORD && passwordIsEmail(c.ADMIN_PASSWORD, c.ADMIN_EMAIL)) {
    ctx.addIssue({ code: 'custom', path: ['ADMIN_PASSWORD'], message: 'must not be the email address' });
  }
  // REDIS_URL means replicas. Each would otherwise make a key file of its own, and sign tokens the others'
  // published key sets do not hold: a replica never mints its own key silently.
  if (c.REDIS_URL && !c.JWT_SIGNING_KEY) {
    ctx.addIssue({
      code: 'custom',
      path: ['JWT_SIGNING_KEY'],
      message: 'several replicas (REDIS_URL is set) must share one signing key: set JWT_SIGNING_KEY (a private Ed25519 JWK; npm start makes one for you)',
    });
  }
});
export type EngagementConfig = z.infer<typeof EngagementConfig>;

export const loadEngagementConfig = (env: Record<string, string | undefined> = process.env): EngagementConfig => loadConfig(EngagementConfig, env);

/** Origins whose pages may open the live socket: the gateway's (it serves the web app and proxies the socket) plus configured ones. */
export function liveOrigins(config: Pick<EngagementConfig, 'GATEWAY_PORT' | 'LIVE_ALLOWED_ORIGINS'>): string[] {
  return [`http://localhost:${config.GATEWAY_PORT}`, `http://127.0.0.1:${config.GATEWAY_PORT}`, ...config.LIVE_ALLOWED_ORIGINS];
}
