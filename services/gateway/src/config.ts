import { DEFAULT_PORTS } from '@dems/contracts';
import { z } from 'zod';
import { BannerConfig, BodyLimit, loadConfig, Port, requireBannerBucket, RuntimeConfig, urlList } from '@dems/kit';
import { TrustProxySetting } from './proxy-trust.js';

const isOrigin = (s: string): boolean => {
  try {
    return new URL(s).origin === s;
  } catch {
    return false;
  }
};

export const GatewayConfig = requireBannerBucket(
  z.object({
    /** SHUTDOWN_DRAIN_SECONDS, SHUTDOWN_TIMEOUT_SECONDS, MAX_EVENT_LOOP_DELAY_MS, MAX_QUEUE_DELAY_MS: as every service (kit config.ts). */
    ...RuntimeConfig.shape,
    HOST: z.string().default('127.0.0.1'),
    GATEWAY_PORT: Port.default(DEFAULT_PORTS.gateway),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    /**
     * Where each service is reached: one URL, or a comma-separated list with one per replica. Requests are balanced
     * over the replicas that answer and retried on another when one cannot serve them (docs/adr/010-gateway-balancing-and-retries.md).
     */
    EVENTS_URL: urlList(`http://127.0.0.1:${DEFAULT_PORTS.events}`),
    TICKETING_URL: urlList(`http://127.0.0.1:${DEFAULT_PORTS.ticketing}`),
    ENGAGEMENT_URL: urlList(`http://127.0.0.1:${DEFAULT_PORTS.engagement}`),
    /**
     * The largest request body the gateway forwards; larger ones get 413 from the gateway itself. Set it as the
     * services' BODY_LIMIT_BYTES is set (the same variable in one environment does both).
     */
    BODY_LIMIT_BYTES: BodyLimit,
    /** The built web app; served when the directory exists. */
    WEB_DIST: z.string().default('./web/dist'),
    /**
     * Other origins whose pages may call the API from a browser (comma separated, e.g. https://app.example.com).
     * Empty by default: the web app is served by the gateway itself and needs no CORS.
     */
    CORS_ORIGINS: z
      .string()
      .default('')
      .transform((s) => s.split(',').map((o) => o.trim()).filter(Boolean))
      .pipe(z.array(z.string().refine(isOrigin, 'must be an origin such as https://app.example.com'))),
    /**
     * The proxies in front of the gateway whose X-Forwarded-For is believed: a hop count (CloudFront + ALB: 2) or
     * their addresses/CIDRs, comma separated (proxy-trust.ts). Empty by default: the gateway is the edge and the
     * peer address is the client.
     */
    TRUST_PROXY: TrustProxySetting,
    /**
     * The gateway's port is public, so by default its /metrics answers only a loopback or private-network peer that
     * connects directly (Prometheus in the cluster), never a request relayed by a proxy or load balancer. true serves
     * it to anyone, for a gateway that only trusted networks can reach.
     */
    METRICS_PUBLIC: z.stringbool().default(false),
    /**
     * The banners it serves at GET /banners/*: the same BANNER_STORE, BANNER_DIR or BANNER_BUCKET (and S3_*) as the
     * events service, which writes them. BANNER_DIR defaults to `<DATA_DIR>/banners` here too.
     */
    ...BannerConfig.shape,
    DATA_DIR: z.string().default('./data'),
    /** The banner bucket's region (BANNER_STORE=s3). */
    AWS_REGION: z.string().min(1).default('us-east-1'),
  }),
);
export type GatewayConfig = z.infer<typeof GatewayConfig>;

export const readConfig = (env = process.env) => loadConfig(GatewayConfig, env);
