// The demo a first-time user sees: an organizer account and a few upcoming events, created through the
// public API (so the demo exercises the same paths a person would).
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { callJson } from './json-call.mjs';

const day = 24 * 60 * 60 * 1000;

function at(daysFromNow, hourUtc, durationHours) {
  const start = new Date(Date.now() + daysFromNow * day);
  start.setUTCHours(hourUtc, 0, 0, 0);
  return { startsAt: start.toISOString(), endsAt: new Date(start.getTime() + durationHours * 3600_000).toISOString() };
}

const EVENTS = [
  {
    title: 'Jazz Night at the Blue Room',
    description: 'An evening of modern jazz with the Ana Reyes Quartet. Doors open 30 minutes before the first set.',
    venue: 'The Blue Room, 12 Harbour Street, Lisbon',
    timezone: 'Europe/Lisbon',
    ...at(7, 19, 3),
    ticketTypes: [
      { name: 'General admission', priceCents: 2500, currency: 'EUR', capacity: 120 },
      { name: 'Table for two', priceCents: 8000, currency: 'EUR', capacity: 15 },
    ],
  },
  {
    title: 'TypeScript Meetup: Types at Scale',
    description: 'Three short talks on large TypeScript codebases, then pizza. Free, but please RSVP.',
    venue: 'Innovation Hub, 500 Market St, San Francisco',
    timezone: 'America/Los_Angeles',
    ...at(14, 1, 3),
    registrationLimit: 80,
    ticketTypes: [{ name: 'Supporter (optional)', priceCents: 1000, currency: 'USD', capacity: 40 }],
  },
  {
    title: 'City 10K Run',
    description: 'A flat, fast 10 km loop along the river. Chip timing, medal and a recovery breakfast included.',
    venue: 'Riverside Park, Main Gate, Berlin',
    timezone: 'Europe/Berlin',
    ...at(30, 7, 4),
    ticketTypes: [
      { name: 'Early bird', priceCents: 1900, currency: 'EUR', capacity: 10 },
      { name: 'Standard', priceCents: 2900, currency: 'EUR', capacity: 500 },
    ],
  },
];

const credentialsFile = (dataDir) => join(dataDir, 'demo-credentials.txt');

/** The demo organizer's "email / password" saved by an earlier seedDemo in dataDir, or undefined. */
export function savedDemoCredentials(dataDir) {
  if (!existsSync(credentialsFile(dataDir))) return undefined;
  return readFileSync(credentialsFile(dataDir), 'utf8')
    .trim()
    .replace('\n', ' / ')
    .replace(/email: |password: /g, '');
}

export async function seedDemo(gatewayUrl, dataDir) {
  /** @type {(path: string, body: unknown, token?: string) => Promise<any>} */
  const api = async (path, body, token) => {
    const res = await callJson('POST', `${gatewayUrl}/api${path}`, body, token);
    if (res.status >= 300) throw new Error(`demo: POST ${path} answered ${res.status} ${res.body?.code}: ${res.body?.message}`);
    return res.body;
  };
  const credentials = { email: 'organizer@demo.dems.local', password: `demo-${randomBytes(6).toString('hex')}` };
  await api('/users', { ...credentials, name: 'Demo Organizer', role: 'organizer' });
  const { token } = await api('/sessions', credentials);
  for (const event of EVENTS) await api('/events', event, token);
  const file = credentialsFile(dataDir);
  writeFileSync(file, `email: ${credentials.email}\npassword: ${credentials.password}\n`, { mode: 0o600 });
  chmodSync(file, 0o600); // the mode above applies only to a file that did not exist
  return { ...credentials, events: EVENTS.length };
}
