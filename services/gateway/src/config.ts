import { DEFAULT_PORTS } from '@dems/contracts';
import { z } from 'zod';
import { BannerConfig, commaList, loadConfig, Port, ProcessConfig, requireBannerBucket } from '@dems/kit';
import { TrustProxySetting } from './proxy-trust.js';

const isOrigin = (s: string): boolean => {
  try {
    return new URL(s).origin === s;
  } catch {
    return false;
  }
};

export const GatewayConfig = requireBannerBucket(
  ProcessConfig.extend({
    /**
     * From the kit's ProcessConfig, as every process: HOST, DATA_DIR, LOG_LEVEL, AWS_REGION (the banner bucket's,
     * with BANNER_STORE=s3), the SHUTDOWN_* and MAX_*_DELAY_MS settings, BODY_LIMIT_BYTES (the largest body the
     * gateway forwards; larger ones get 413 here, so set it as the services' is set), and EVENTS_URL, TICKETING_URL,
     * ENGAGEMENT_URL (requests are balanced over the replicas that answer and retried on another when one cannot
     * serve them).
     */
    GATEWAY_PORT: Port.default(DEFAULT_PORTS.gateway),
    /** The built web app; served when the directory exists. */
    WEB_DIST: z.string().default('./web/dist'),
    /**
     * Other origins whose pages may call the API from a browser (comma separated, e.g. https://app.example.com).
     * Empty by default: the web app is served by the gateway itself and needs no CORS.
     */
    CORS_ORIGINS: commaList().pipe(z.array(z.string().refine(isOrigin, 'must be an origin such as https://app.example.com'))),
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
  }),
);
export type GatewayConfig = z.infer<typeof GatewayConfig>;

export const loadGatewayConfig = (env: Record<string, string | undefined> = process.env): GatewayConfig => loadConfig(GatewayConfig, env);
