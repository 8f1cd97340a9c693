import { BlockList, isIP } from 'node:net';
import { z } from 'zod';
import { splitList } from '@dems/kit';

/**
 * Who stands between a client and the gateway (TRUST_PROXY), so that the client's address — what per-address limits
 * count (sign-ups per hour, failed sign-ins) — is the person's, not a proxy's:
 * - a hop count: exactly this many proxies in front, whose addresses are not known in advance (CloudFront's edge
 *   servers, then the ALB: 2). Each appends the address it was reached from to X-Forwarded-For, so the entry that
 *   many places from the right end is the client's; anything further left was written by the client and is ignored;
 * - addresses or CIDRs (or proxy-addr's names loopback, linklocal, uniquelocal): the proxies themselves, every
 *   one of them (a load balancer in a subnet you know, with nothing public in front of it);
 * - nothing (an empty list): the gateway is the edge and the peer is the client.
 */
export type ProxyTrust = number | string[];

export const MAX_PROXY_HOPS = 5;

const NAMED_RANGES = new Set(['loopback', 'linklocal', 'uniquelocal']);

/** What proxy-addr (Fastify's trustProxy) takes in a list: an address, address/prefix or IPv4 address/netmask. */
function isAddressOrRange(entry: string): boolean {
  if (NAMED_RANGES.has(entry)) return true;
  const [address = '', range, ...rest] = entry.split('/');
  const family = isIP(address);
  if (!family || rest.length) return false;
  if (range === undefined) return true;
  if (/^\d{1,3}$/.test(range)) return Number(range) <= (family === 4 ? 32 : 128);
  return family === 4 && isIP(range) === 4;
}

export const TrustProxySetting = z
  .string()
  .default('')
  .transform((text, ctx): ProxyTrust => {
    const value = text.trim();
    if (/^\d+$/.test(value)) {
      const hops = Number(value);
      if (hops >= 1 && hops <= MAX_PROXY_HOPS) return hops;
      ctx.addIssue({ code: 'custom', message: `a hop count is a whole number from 1 to ${MAX_PROXY_HOPS} (to trust no proxy, leave TRUST_PROXY empty)` });
      return z.NEVER;
    }
    const entries = splitList(value);
    const wrong = entries.find((e) => !isAddressOrRange(e));
    if (wrong === undefined) return entries;
    ctx.addIssue({
      code: 'custom',
      message: `"${wrong}" is not an address or CIDR: TRUST_PROXY is a hop count (1-${MAX_PROXY_HOPS}; CloudFront + ALB: 2) or comma-separated addresses/CIDRs of the proxies`,
    });
    return z.NEVER;
  });

/**
 * Where the nearest of counted proxies may connect from: the private networks a load balancer in front of a pod or
 * server has its address in (RFC 1918, the RFC 6598 range VPCs may use, IPv6 unique local, loopback).
 */
const PRIVATE_NETWORKS = new BlockList();
for (const [network, prefix] of [
  ['10.0.0.0', 8],
  ['172.16.0.0', 12],
  ['192.168.0.0', 16],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
] as const) {
  PRIVATE_NETWORKS.addSubnet(network, prefix, 'ipv4');
}
PRIVATE_NETWORKS.addSubnet('fc00::', 7, 'ipv6');
PRIVATE_NETWORKS.addAddress('::1', 'ipv6');

const isPrivate = (address: string): boolean => {
  const family = isIP(address);
  // An IPv4 peer of a dual-stack socket (::ffff:10.0.0.5) matches the IPv4 networks as well.
  return family !== 0 && PRIVATE_NETWORKS.check(address, family === 4 ? 'ipv4' : 'ipv6');
};

/** Fastify's trustProxy: whether the address at `hop` (0: the peer, 1: the rightmost X-Forwarded-For entry…) is a proxy. */
export type TrustFunction = (address: string, hop: number) => boolean;

/**
 * Fastify's trustProxy option for the setting. Fastify (5.12 on) ignores a bare number: a client that reaches the
 * server directly could write as many entries as it likes. So a hop count is believed only when the peer is in a
 * private network — the nearest proxy, a load balancer beside the gateway — and a client on the internet that
 * connects directly is its own address, whatever it writes.
 */
export function trustProxyOption(setting: ProxyTrust): TrustFunction | string[] | false {
  if (typeof setting === 'number') return (address, hop) => hop < setting && (hop > 0 || isPrivate(address));
  return setting.length ? setting : false;
}
