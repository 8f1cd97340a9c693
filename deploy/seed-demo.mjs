#!/usr/bin/env node
// The demo a first-time user of `docker compose up` sees, as `npm start` makes it: a demo organizer and three
// upcoming events, created through the gateway's public API. Runs once: the credentials are kept in DIR (a volume)
// and printed again on later starts; a system that already has the demo organizer is left as it is.
//
// usage: node deploy/seed-demo.mjs GATEWAY_URL DIR      (compose: the one-shot `demo` service)
import { savedDemoCredentials, seedDemo } from '../scripts/lib/demo.mjs';

const [gatewayUrl, dir] = process.argv.slice(2);
if (!gatewayUrl || !dir) {
  console.error('usage: node deploy/seed-demo.mjs GATEWAY_URL DIR');
  process.exit(64);
}
const show = (credentials) => console.log(`Demo organizer: ${credentials}   (sign in at http://localhost:3000)`);

try {
  const saved = savedDemoCredentials(dir);
  if (saved) {
    show(saved);
  } else {
    const demo = await seedDemo(gatewayUrl, dir);
    show(`${demo.email} / ${demo.password}`);
    console.log(`Demo events: ${demo.events} upcoming events with ticket types.`);
  }
} catch (err) {
  // The organizer exists but its credentials file is gone (the volume was removed, not the data): nothing to add.
  if (/EMAIL_TAKEN/.test(err.message)) console.log('The demo organizer exists already; its password was in the removed dems-demo volume.');
  else {
    console.error(`Could not create the demo data: ${err.message}`);
    process.exit(1);
  }
}
