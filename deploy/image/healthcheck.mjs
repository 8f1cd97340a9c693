// The image's HEALTHCHECK: GET /healthz from the DEMS process in this container, on its own port. The role is the
// container's argument, not its environment, so it is read from the running process's command line
// (node /app/services/<role>/dist/main.js), wherever an init process (docker run --init) puts it.
import { readdirSync, readFileSync } from 'node:fs';

const PORTS = { gateway: ['GATEWAY_PORT', 3000], events: ['EVENTS_PORT', 3001], ticketing: ['TICKETING_PORT', 3002], engagement: ['ENGAGEMENT_PORT', 3003] };

function runningRole() {
  for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    try {
      const role = /\/services\/([a-z]+)\/dist\/main\.js/.exec(readFileSync(`/proc/${pid}/cmdline`, 'latin1'))?.[1];
      if (role && role in PORTS) return role;
    } catch {
      // The process ended meanwhile.
    }
  }
  return undefined;
}

const role = runningRole();
if (!role) {
  console.error('unhealthy: no DEMS process is running');
  process.exit(1);
}
const [portVariable, defaultPort] = PORTS[role];
const port = process.env[portVariable] || defaultPort;
// A wildcard listen address is reached on loopback; a specific one only at that address.
const host = !process.env.HOST || ['0.0.0.0', '::'].includes(process.env.HOST) ? '127.0.0.1' : process.env.HOST;
const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}/healthz`;
try {
  const res = await fetch(url, { signal: AbortSignal.timeout(2500) });
  if (!res.ok) throw new Error(`HTTP ${res.status}`);
} catch (err) {
  console.error(`unhealthy: ${role} at ${url}: ${err.cause?.message ?? err.message}`);
  process.exit(1);
}
