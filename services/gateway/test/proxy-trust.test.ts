import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Fastify, { type FastifyInstance } from 'fastify';
import { ConfigError, type App } from '@dems/kit';
import { buildApp } from '../src/app.js';
import { GatewayConfig, loadGatewayConfig } from '../src/config.js';

// The addresses of a request that came CloudFront → ALB → gateway (documentation ranges, RFC 5737):
const VIEWER = '198.51.100.7'; // the person, as CloudFront's edge saw them
const OTHER_VIEWER = '192.0.2.44'; // someone else behind the same edge location
const EDGE = '203.0.113.10'; // CloudFront's origin-facing server, as the ALB saw it
const ALB = '10.0.1.23'; // the ALB's address in the VPC: the gateway's peer

/**
 * A stand-in for the services (named as such): it answers with the X-Forwarded-For the gateway sent, which is
 * what a service counts per-address limits by.
 */
async function recordingService(): Promise<{ app: FastifyInstance; url: string }> {
  const app = Fastify();
  app.all('/*', async (req) => ({ forwardedFor: req.headers['x-forwarded-for'] ?? null }));
  return { app, url: await app.listen({ port: 0, host: '127.0.0.1' }) };
}

describe('TRUST_PROXY: who the client is behind CloudFront and a load balancer', () => {
  let service: Awaited<ReturnType<typeof recordingService>>;
  const gateways: App[] = [];

  async function gateway(trustProxy: string): Promise<App> {
    const app = await buildApp({ config: GatewayConfig.parse({ EVENTS_URL: service.url, TICKETING_URL: service.url, ENGAGEMENT_URL: service.url, TRUST_PROXY: trustProxy }) });
    gateways.push(app);
    return app;
  }
  /** The client address the services are told, for a request from `peer` carrying `forwardedFor`. */
  async function clientSeen(app: App, peer: string, forwardedFor?: string): Promise<string> {
    const headers = forwardedFor === undefined ? {} : { 'x-forwarded-for': forwardedFor };
    const res = await app.inject({ url: '/api/events', remoteAddress: peer, headers });
    expect(res.statusCode, res.body).toBe(200);
    return res.json<{ forwardedFor: string }>().forwardedFor;
  }

  beforeAll(async () => {
    service = await recordingService();
  });
  afterAll(async () => {
    await Promise.all(gateways.map((g) => g.close()));
    await service.app.close();
  });

  it('with 2 hops (CloudFront + ALB), the client is the viewer CloudFront saw, and a forged leftmost entry is ignored', async () => {
    const app = await gateway('2');
    expect(await clientSeen(app, ALB, `${VIEWER}, ${EDGE}`)).toBe(VIEWER);
    expect(await clientSeen(app, ALB, `${OTHER_VIEWER}, ${EDGE}`)).toBe(OTHER_VIEWER);
    // The viewer wrote X-Forwarded-For: 6.6.6.6 themselves; CloudFront appended their real address, the ALB the edge's.
    expect(await clientSeen(app, ALB, `6.6.6.6, ${VIEWER}, ${EDGE}`)).toBe(VIEWER);
    expect(await clientSeen(app, ALB, `6.6.6.6,7.7.7.7, ${VIEWER},${EDGE}`)).toBe(VIEWER);
    // The peer as a dual-stack socket reports it, and an IPv6 viewer.
    expect(await clientSeen(app, `::ffff:${ALB}`, `${VIEWER}, ${EDGE}`)).toBe(VIEWER);
    expect(await clientSeen(app, ALB, `2001:db8::7, ${EDGE}`)).toBe('2001:db8::7');
    // Nothing forwarded (the ALB's health check, a pod in the cluster): the peer itself.
    expect(await clientSeen(app, ALB)).toBe(ALB);
  });

  it('counts hops from the peer: 1 hop believes only the entry the nearest proxy appended', async () => {
    const app = await gateway('1');
    expect(await clientSeen(app, ALB, `6.6.6.6, ${VIEWER}`)).toBe(VIEWER);
    expect(await clientSeen(app, ALB, `${VIEWER}, ${EDGE}`)).toBe(EDGE);
  });

  it('believes no hop from a public peer: a client reaching the gateway directly cannot choose its address', async () => {
    const app = await gateway('2');
    expect(await clientSeen(app, '203.0.113.99', `6.6.6.6, ${VIEWER}, ${EDGE}`)).toBe('203.0.113.99');
    expect(await clientSeen(app, '2001:db8::99', `6.6.6.6, ${EDGE}`)).toBe('2001:db8::99');
  });

  it('over a real connection too (a listening gateway, a loopback peer)', async () => {
    const app = await gateway('2');
    const url = await app.listen({ port: 0, host: '127.0.0.1' });
    const res = await fetch(`${url}/api/events`, { headers: { 'x-forwarded-for': `6.6.6.6, ${VIEWER}, ${EDGE}` } });
    expect(await res.json()).toEqual({ forwardedFor: VIEWER });
  });

  it('with the VPC trusted as a list instead, everyone behind one edge location is that edge (why a hop count exists)', async () => {
    const app = await gateway('10.0.0.0/16');
    expect(await clientSeen(app, ALB, `${VIEWER}, ${EDGE}`)).toBe(EDGE);
    expect(await clientSeen(app, ALB, `${OTHER_VIEWER}, ${EDGE}`)).toBe(EDGE);
    // The list form still does its job: a proxy at a listed address is believed, any other peer is the client.
    expect(await clientSeen(app, ALB, VIEWER)).toBe(VIEWER);
    expect(await clientSeen(app, '10.1.0.5', VIEWER)).toBe('10.1.0.5');
  });

  it('trusts no one by default: the peer is the client', async () => {
    const app = await gateway('');
    expect(await clientSeen(app, ALB, `${VIEWER}, ${EDGE}`)).toBe(ALB);
  });
});

describe('TRUST_PROXY values', () => {
  const parse = (value: string) => GatewayConfig.parse({ TRUST_PROXY: value }).TRUST_PROXY;
  const problem = (value: string): string => {
    try {
      loadGatewayConfig({ TRUST_PROXY: value });
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      return (err as ConfigError).problems.join('\n');
    }
    throw new Error(`TRUST_PROXY="${value}" was accepted`);
  };

  it('takes a hop count from 1 to 5, or addresses, CIDRs, netmasks and proxy-addr names', () => {
    expect(parse('1')).toBe(1);
    expect(parse(' 2 ')).toBe(2);
    expect(parse('5')).toBe(5);
    expect(parse('')).toEqual([]);
    expect(GatewayConfig.parse({}).TRUST_PROXY).toEqual([]);
    expect(parse('10.0.0.0/16, 192.168.1.7,fd00::/8 ,::1')).toEqual(['10.0.0.0/16', '192.168.1.7', 'fd00::/8', '::1']);
    expect(parse('10.0.0.0/255.255.0.0,loopback,uniquelocal,linklocal')).toEqual(['10.0.0.0/255.255.0.0', 'loopback', 'uniquelocal', 'linklocal']);
    expect(parse('10.0.0.0/0,2001:db8::/128,10.0.0.0/32')).toEqual(['10.0.0.0/0', '2001:db8::/128', '10.0.0.0/32']);
  });

  it('refuses anything else with one line that names the setting and both forms', () => {
    for (const count of ['0', '6', '10', '00']) {
      expect(problem(count), count).toMatch(/^TRUST_PROXY \(".*"\): a hop count is a whole number from 1 to 5 \(to trust no proxy, leave TRUST_PROXY empty\)$/);
    }
    for (const [value, wrong] of [
      ['two', 'two'],
      ['2.5', '2.5'],
      ['-1', '-1'],
      ['2,10.0.0.0/16', '2'],
      ['10.0.0.0/33', '10.0.0.0/33'],
      ['2001:db8::/129', '2001:db8::/129'],
      ['10.0.0.0/8/8', '10.0.0.0/8/8'],
      ['fd00::/ffff::', 'fd00::/ffff::'],
      ['10.0.0.0/', '10.0.0.0/'],
      ['loopback,gateway.local', 'gateway.local'],
      ['true', 'true'],
    ]) {
      const line = problem(value!);
      expect(line, value).toContain(`"${wrong}" is not an address or CIDR: TRUST_PROXY is a hop count (1-5; CloudFront + ALB: 2) or comma-separated addresses/CIDRs`);
      expect(line.split('\n'), value).toHaveLength(1);
    }
  });
});
