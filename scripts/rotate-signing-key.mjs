#!/usr/bin/env node
// Operator tool: rotate the key engagement signs access tokens with, without signing anyone out.
//   npm run rotate-signing-key                 new key published now, signs after 60 s
//   npm run rotate-signing-key -- --after 300  …signs after 300 s
// The old key stays published until the tokens it signed have expired. Reads SERVICE_SECRET (or
// DATA_DIR/service-secret) and ENGAGEMENT_URL like the services do; engagement must be running.
import { createHmac } from 'node:crypto';
import { resolve } from 'node:path';
import { DEFAULT_PORTS, ROOT, serviceSecret } from './lib/system.mjs';

const args = process.argv.slice(2);
const afterAt = args.indexOf('--after');
const after = afterAt >= 0 ? Number(args[afterAt + 1]) : undefined;
if ((afterAt >= 0 && !Number.isInteger(after)) || args.some((a, i) => a !== '--after' && i !== afterAt + 1)) {
  console.error('Usage: npm run rotate-signing-key [-- --after <seconds>]');
  process.exit(2);
}
const secret = serviceSecret(resolve(ROOT, process.env.DATA_DIR ?? 'data'));
// ENGAGEMENT_URL may list several replicas; the first one is asked.
const engagement = (process.env.ENGAGEMENT_URL ?? `http://127.0.0.1:${DEFAULT_PORTS.engagement}`).split(',')[0]?.trim().replace(/\/$/, '');
const url = `${engagement}/internal/signing-keys/rotate`;
const body = JSON.stringify(after === undefined ? {} : { activateAfterSeconds: after });
const timestamp = String(Date.now());
const signature = createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex');

try {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-dems-timestamp': timestamp, 'x-dems-signature': signature },
    body,
  });
  const answer = /** @type {{ code?: string, message?: string, kid: string, activatesAt: string, published: string[] }} */ (await res.json());
  if (!res.ok) throw new Error(`${res.status} ${answer.code}: ${answer.message}`);
  console.log(`✔ New signing key ${answer.kid} is published; it signs from ${answer.activatesAt}.`);
  console.log(`  Published keys: ${answer.published.join(', ')}`);
} catch (err) {
  console.error(`✖ ${err.message}`);
  process.exit(1);
}
