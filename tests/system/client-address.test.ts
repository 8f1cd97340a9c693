// Behind CloudFront and an ALB (the eks overlay's gateway TRUST_PROXY=2), per-address limits count people, not
// CloudFront edge locations: the real gateway in front of the real engagement service (a real SQLite file), both
// listening on loopback ports the system picks. Requests reach the gateway as the ALB delivers them: from the ALB's
// address in the VPC, with X-Forwarded-For "<anything the viewer wrote>, <viewer>, <edge>" (CloudFront appends the
// viewer, the ALB the edge server).
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '@dems/kit';
import { TEST_SECRET, tempDir } from '@dems/kit/testing';
import { buildApp as buildEngagement } from '../../services/engagement/src/app.js';
import { SigningKeys } from '../../services/engagement/src/identity/signing-keys.js';
import { SqliteEngagementStore } from '../../services/engagement/src/store/sqlite.js';
import { buildApp as buildGateway } from '../../services/gateway/src/app.js';
import { GatewayConfig } from '../../services/gateway/src/config.js';

const ALB = '10.0.1.23';
const EDGE = '203.0.113.10';
const VIEWER_A = '198.51.100.7';
const VIEWER_B = '192.0.2.44';
const SIGNUPS_PER_ADDRESS = 2;

describe('sign-ups per address behind CloudFront and the ALB', () => {
  const dir = tempDir('dems-client-address-');
  let engagement: App;
  let gateway: App;
  let seq = 0;

  beforeAll(async () => {
    const store = new SqliteEngagementStore({ file: join(dir.path, 'engagement.db'), synchronous: 'NORMAL' });
    const keys = await SigningKeys.load({ file: join(dir.path, 'engagement-signing-keys.json') });
    // Engagement believes X-Forwarded-For from the gateway only (here on loopback, as under npm start).
    engagement = await buildEngagement({ store, keys, secret: TEST_SECRET, accountLimits: { signUpsPerAddress: SIGNUPS_PER_ADDRESS } });
    const engagementUrl = await engagement.listen({ port: 0, host: '127.0.0.1' });
    gateway = await buildGateway({ config: GatewayConfig.parse({ ENGAGEMENT_URL: engagementUrl, TRUST_PROXY: '2' }) });
  });
  afterAll(async () => {
    await gateway?.close();
    await engagement?.close();
    dir.cleanup();
  });

  const signUp = async (forwardedFor: string) => {
    const payload = { email: `viewer-${seq++}@example.com`, password: 'correct horse battery', name: 'Ada', role: 'attendee' };
    const res = await gateway.inject({ method: 'POST', url: '/api/users', payload, remoteAddress: ALB, headers: { 'x-forwarded-for': forwardedFor } });
    return res.statusCode;
  };

  it('limits each viewer on their own, whoever else comes through the same edge, and ignores what a viewer writes', async () => {
    for (let i = 0; i < SIGNUPS_PER_ADDRESS; i++) expect(await signUp(`${VIEWER_A}, ${EDGE}`)).toBe(201);
    expect(await signUp(`${VIEWER_A}, ${EDGE}`)).toBe(429);
    // Viewer A pretends to be someone new: CloudFront still appended their real address.
    expect(await signUp(`203.0.113.200, ${VIEWER_A}, ${EDGE}`)).toBe(429);
    // Viewer B, behind the same edge server, is not held back by A.
    expect(await signUp(`${VIEWER_B}, ${EDGE}`)).toBe(201);
  });
});
