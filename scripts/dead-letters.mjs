#!/usr/bin/env node
// Operator tool for messages that could not be delivered (dead letters): list them, or put one back in the queue.
//   npm run dead-letters -- list [service]
//   npm run dead-letters -- replay <service> <id>
// Reads SERVICE_SECRET (or DATA_DIR/service-secret) and the service URLs from the same variables the services use.
import { createHmac } from 'node:crypto';
import { resolve } from 'node:path';
import { DEFAULT_PORTS, ROOT, serviceSecret } from './lib/system.mjs';

const SERVICES = ['events', 'ticketing', 'engagement'];
const [command = 'list', service, id] = process.argv.slice(2);
const secret = serviceSecret(resolve(ROOT, process.env.DATA_DIR ?? 'data'));
const urlOf = (s) => process.env[`${s.toUpperCase()}_URL`] ?? `http://127.0.0.1:${DEFAULT_PORTS[s]}`;

async function signed(method, url) {
  const timestamp = String(Date.now());
  const signature = createHmac('sha256', secret).update(`${timestamp}.`).digest('hex');
  const res = await fetch(url, { method, headers: { 'x-dems-timestamp': timestamp, 'x-dems-signature': signature } });
  const body = /** @type {Record<string, any>} */ (await res.json());
  if (!res.ok) throw new Error(`${res.status} ${body.code}: ${body.message}`);
  return body;
}

try {
  if (command === 'list') {
    for (const s of service ? [service] : SERVICES) {
      const { items } = await signed('GET', `${urlOf(s)}/internal/dead-letters`);
      console.log(`${s}: ${items.length} dead letter(s)`);
      for (const d of items) console.log(`  #${d.id} → ${d.subscriber}  ${d.message.type}  ${d.attempts} tries  last error: ${d.lastError}`);
    }
  } else if (command === 'replay' && service && SERVICES.includes(service) && id) {
    await signed('POST', `${urlOf(service)}/internal/dead-letters/${encodeURIComponent(id)}/replay`);
    console.log(`Message #${id} of ${service} is queued for delivery again.`);
  } else {
    console.error('Usage: npm run dead-letters -- list [service] | replay <service> <id>');
    process.exit(2);
  }
} catch (err) {
  console.error(`✖ ${err.message}`);
  process.exit(1);
}
