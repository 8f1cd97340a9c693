// The container image, for real: deploy/Dockerfile built with podman (on the official node:24-bookworm-slim, or the
// stand-in deploy/image/base-image.sh makes where no registry can be reached) and run, one container per role on the
// host network: each starts as the non-root user and answers /healthz, the HEALTHCHECK tells a live process from a
// dead one, the gateway container serves the web app and reaches the three service containers (a purchase crosses
// all four), SIGTERM stops a container cleanly, and a bad role gets the usage.
import { execFile, spawn, spawnSync } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import sharp from 'sharp';
import { afterAll, beforeAll, beforeEach, describe, expect, it, onTestFailed } from 'vitest';
import { reservePort } from '../../scripts/lib/ports.mjs';
import { startLocalS3, type LocalS3 } from '../setup/s3-server.js';
import { client, createEvent, eventually, waitOnSale } from '../system/helpers.js';

const ROOT = join(import.meta.dirname, '..', '..');
const IMAGE = 'dems:local';
const ROLES = ['gateway', 'events', 'ticketing', 'engagement'] as const;
type Role = (typeof ROLES)[number];
/**
 * Each role's port on the host network. A container cannot tell the test which port the OS gave it, and every role
 * needs the others' addresses before it starts: so they are reserved (taken from the OS and released) just before.
 */
let PORTS: Record<Role, number>;
const BANNER_BUCKET = 'dems-banners';
/** Every container this file starts carries it, so that leftovers of an interrupted run are found and removed. */
const LABEL = 'dems.test=images';
/** Debian's CA bundle, given to npm in the build as the npm_ca secret: npm on this machine needs it to reach the registry. */
const CA_BUNDLE = '/etc/ssl/certs/ca-certificates.crt';
const BUILD_LOG = join(ROOT, 'test-results', 'image-build.log');

/**
 * podman as this machine needs it: the runc runtime where it is installed (crun fails on some kernels' cgroups) and
 * explicit ulimits (the defaults are refused there).
 */
const RUNTIME = spawnSync('runc', ['--version']).status === 0 ? ['--runtime', 'runc'] : [];
const RUN = [...RUNTIME, 'run', '--network', 'host', '--ulimit', 'nofile=4096:4096', '--ulimit', 'nproc=4096:4096'];

const podmanProblem = (() => {
  const info = spawnSync('podman', [...RUNTIME, 'info'], { encoding: 'utf8' });
  if (info.error) return 'podman is not installed (apt-get install -y podman runc)';
  return info.status === 0 ? undefined : `podman does not work here: ${info.stderr.trim().split('\n').at(-1)}`;
})();
if (podmanProblem && process.env.CI === 'true') {
  throw new Error(`${podmanProblem}. Under CI=true the image tests are required; .ci/run installs podman, runc and debootstrap.`);
}

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

function podman(args: string[], timeout = 60_000): Promise<Result> {
  return new Promise((resolve) => {
    execFile('podman', args, { timeout, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

async function ok(args: string[], timeout?: number): Promise<string> {
  const r = await podman(args, timeout);
  if (r.code !== 0) throw new Error(`podman ${args.join(' ')} failed (${r.code}): ${r.stderr.trim()}`);
  return r.stdout.trim();
}

/** A command with its output in a log file; rejects with the log's last lines. */
function logged(cmd: string, args: string[], log: string, timeout: number): Promise<void> {
  mkdirSync(join(log, '..'), { recursive: true });
  const out = createWriteStream(log);
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], timeout });
    child.stdout.pipe(out, { end: false });
    child.stderr.pipe(out, { end: false });
    child.on('close', (code) => {
      out.end(() => {
        if (code === 0) return resolve();
        const tail = readFileSync(log, 'utf8').trimEnd().split('\n').slice(-25).join('\n');
        reject(new Error(`${cmd} ${args.join(' ')} exited with ${code}; the end of ${log}:\n${tail}`));
      });
    });
  });
}

const removeOurContainers = async () => {
  const ids = (await ok(['ps', '--all', '--quiet', '--filter', `label=${LABEL}`])).split('\n').filter(Boolean);
  // --volumes: each container's anonymous /data volume goes with it.
  if (ids.length) await podman(['rm', '--force', '--volumes', '--time', '0', ...ids]);
  // Named volumes (compose's one-shot services) carry the label too.
  const volumes = (await ok(['volume', 'ls', '--quiet', '--filter', `label=${LABEL}`])).split('\n').filter(Boolean);
  if (volumes.length) await podman(['volume', 'rm', '--force', ...volumes]);
};

const SECRET = 'image-test-service-secret-0123456789';
const name = (role: Role) => `dems-image-test-${role}`;

/**
 * One environment for every role, as compose or a ConfigMap gives it: each listens on its own port of PORTS,
 * and banners live in S3 (`s3Endpoint`, a local s3rver on the host) as on AWS (the events container writes them,
 * the gateway container serves them).
 */
const environment = (s3Endpoint: string): Record<string, string> => ({
  SERVICE_SECRET: SECRET,
  LOG_LEVEL: 'warn',
  GATEWAY_PORT: String(PORTS.gateway),
  EVENTS_PORT: String(PORTS.events),
  TICKETING_PORT: String(PORTS.ticketing),
  ENGAGEMENT_PORT: String(PORTS.engagement),
  EVENTS_URL: `http://127.0.0.1:${PORTS.events}`,
  TICKETING_URL: `http://127.0.0.1:${PORTS.ticketing}`,
  ENGAGEMENT_URL: `http://127.0.0.1:${PORTS.engagement}`,
  // Every test request comes from 127.0.0.1: lift the per-address sign-up throttle.
  SIGNUPS_PER_ADDRESS_PER_HOUR: '100000',
  BANNER_STORE: 's3',
  BANNER_BUCKET,
  S3_ENDPOINT: s3Endpoint,
  S3_FORCE_PATH_STYLE: 'true',
  // s3rver accepts any signature; the AWS SDK in the containers reads these as it would a pod's credentials.
  AWS_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: 'S3RVER',
  AWS_SECRET_ACCESS_KEY: 'S3RVER',
});

async function healthz(role: Role): Promise<{ status: number; body: unknown } | undefined> {
  try {
    const res = await fetch(`http://127.0.0.1:${PORTS[role]}/healthz`, { signal: AbortSignal.timeout(2000) });
    return { status: res.status, body: await res.json() };
  } catch {
    return undefined;
  }
}

describe.skipIf(podmanProblem !== undefined)('the dems image (deploy/Dockerfile, podman)', () => {
  beforeAll(async () => {
    await removeOurContainers();
    // The base image: present, pulled, or (no registry reachable) the stand-in, cached after its first making.
    await logged(join(ROOT, 'deploy', 'image', 'base-image.sh'), [], join(ROOT, 'test-results', 'base-image.log'), 15 * 60_000);
    const started = Date.now();
    const secret = existsSync(CA_BUNDLE) ? ['--secret', `id=npm_ca,src=${CA_BUNDLE}`] : [];
    // --format docker: the OCI image format has no HEALTHCHECK. Unchanged layers come from podman's cache.
    await logged('podman', [...RUNTIME, 'build', '--format', 'docker', '--network', 'host', ...secret, '--file', 'deploy/Dockerfile', '--tag', IMAGE, '.'], BUILD_LOG, 30 * 60_000);
    console.log(`built ${IMAGE} in ${((Date.now() - started) / 1000).toFixed(0)} s (log: ${BUILD_LOG})`);
  }, 45 * 60_000);

  afterAll(removeOurContainers, 60_000);

  it('is configured to run as the user node with a health check, the role as its argument and /data as its volume', async () => {
    const config = JSON.parse(await ok(['image', 'inspect', '--format', '{{json .Config}}', IMAGE])) as {
      User: string;
      Entrypoint: string[];
      Cmd: string[] | null;
      ExposedPorts: Record<string, object>;
      Volumes: Record<string, object>;
      Env: string[];
    };
    // podman shows the Docker-format HEALTHCHECK beside the config (docker shows it as .Config.Healthcheck).
    const healthcheck = JSON.parse(await ok(['image', 'inspect', '--format', '{{json .HealthCheck}}', IMAGE])) as { Test: string[] } | null;
    expect(config.User).toBe('node');
    expect(config.Entrypoint).toEqual(['dems']);
    expect(config.Cmd ?? []).toEqual([]);
    expect(Object.keys(config.ExposedPorts).sort()).toEqual(['3000/tcp', '3001/tcp', '3002/tcp', '3003/tcp']);
    expect(Object.keys(config.Volumes)).toEqual(['/data']);
    expect(config.Env).toEqual(expect.arrayContaining(['HOST=0.0.0.0', 'DATA_DIR=/data', 'WEB_DIST=/app/web/dist']));
    expect(healthcheck?.Test).toEqual(['CMD', 'node', '/app/healthcheck.mjs']);
  });

  it('holds the built services and web app and only production dependencies, on Node.js 24', async () => {
    // Run inside the image, as the app would: what a process there can see and load.
    const probe = `
      import { existsSync, readdirSync } from 'node:fs';
      import { createRequire } from 'node:module';
      const require = createRequire('/app/');
      const roles = ['events', 'ticketing', 'engagement', 'gateway'];
      const walk = (d) => readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(d + '/' + e.name) : [d + '/' + e.name]));
      const attempt = async (f) => { try { return await f(); } catch (e) { return e.message; } };
      console.log(JSON.stringify({
        node: process.versions.node,
        uid: process.getuid(),
        bundles: roles.filter((r) => existsSync('/app/services/' + r + '/dist/main.js')),
        sourceMaps: roles.flatMap((r) => walk('/app/services/' + r + '/dist')).filter((f) => f.endsWith('.map')).length,
        webApp: existsSync('/app/web/dist/index.html'),
        devDependencies: ['vite', 'typescript', 'vitest', 'esbuild', 'aws-cdk-lib', 'react', 'eslint'].filter((p) => existsSync('/app/node_modules/' + p)),
        sources: existsSync('/app/packages') || existsSync('/app/services/events/src'),
        betterSqlite3: await attempt(() => (new (require('better-sqlite3'))(':memory:').close(), 'loads')),
        // Banners are re-encoded with sharp: its native libvips must be in the image for this platform.
        sharp: await attempt(async () => (await require('sharp')({ create: { width: 4, height: 2, channels: 3, background: '#c33' } }).webp().toBuffer()).subarray(8, 12).toString('latin1')),
      }));`;
    const out = JSON.parse(await ok([...RUN, '--rm', '--no-healthcheck', '--entrypoint', 'node', IMAGE, '--input-type=module', '-e', probe])) as Record<string, unknown>;
    expect(out).toEqual({
      node: expect.stringMatching(/^24\./),
      uid: 1000,
      bundles: ['events', 'ticketing', 'engagement', 'gateway'],
      sourceMaps: 0,
      webApp: true,
      devDependencies: [],
      sources: false,
      betterSqlite3: 'loads',
      sharp: 'WEBP',
    });
    const size = Number(await ok(['image', 'inspect', '--format', '{{.Size}}', IMAGE]));
    console.log(`${IMAGE}: ${(size / 1e6).toFixed(0)} MB`);
    // About 300 MB, of which the base image is about 225 MB; more means dev dependencies or build leftovers crept in.
    expect(size).toBeLessThan(330e6);
  });

  it('refuses an unknown or missing role with the usage in one line (exit 64)', async () => {
    // --no-healthcheck: podman would otherwise add its (systemd) health timer and complain on stderr where there is none.
    const unknown = await podman([...RUN, '--rm', '--no-healthcheck', IMAGE, 'billing']);
    expect(unknown.code).toBe(64);
    expect(unknown.stderr.trim()).toBe("dems: unknown role 'billing'; usage: dems events|ticketing|engagement|gateway [--create-tables]");
    const missing = await podman([...RUN, '--rm', '--no-healthcheck', IMAGE]);
    expect(missing.code).toBe(64);
    expect(missing.stderr.trim()).toBe('dems: no role given; usage: dems events|ticketing|engagement|gateway [--create-tables]');
  });

  describe('one container per role', () => {
    let s3: LocalS3;

    beforeAll(async () => {
      s3 = await startLocalS3([BANNER_BUCKET]);
      PORTS = Object.fromEntries(await Promise.all(ROLES.map(async (role) => [role, await reservePort()]))) as Record<Role, number>;
      const envArgs = Object.entries(environment(s3.endpoint)).flatMap(([k, v]) => ['--env', `${k}=${v}`]);
      for (const role of ROLES) {
        // A read-only root file system, as the Kubernetes pods have: the process writes only to its /data volume
        // and a scratch /tmp (SQLite's temporary files; an emptyDir there, a tmpfs here).
        await ok([...RUN, '--detach', '--name', name(role), '--label', LABEL, '--read-only', ...envArgs, IMAGE, role]);
      }
      for (const role of ROLES) {
        await eventually(async () => ((await healthz(role))?.status === 200 ? true : undefined), 60_000, `${role} to answer /healthz`);
      }
    }, 120_000);

    afterAll(async () => {
      await removeOurContainers();
      await s3?.close();
    }, 60_000);

    // A failing test shows what the containers said.
    beforeEach(() => {
      onTestFailed(async () => {
        for (const role of ROLES) {
          const logs = await podman(['logs', '--tail', '20', name(role)]);
          console.error(`--- ${name(role)} ---\n${logs.stdout}${logs.stderr}`);
        }
      });
    });

    it.each(ROLES)('%s runs as the non-root user node (uid 1000) and answers /healthz', async (role) => {
      expect(await healthz(role)).toEqual({ status: 200, body: { status: 'ok', service: role } });
      // The main process itself (PID 1: the entry point exec'd node), not just the configured user.
      const [user, pid, ...args] = (await ok(['top', name(role), 'user', 'pid', 'args'])).split('\n')[1]!.trim().split(/\s+/);
      expect({ user, pid, args: args.join(' ') }).toEqual({ user: 'node', pid: '1', args: `node /app/services/${role}/dist/main.js` });
      expect(await ok(['exec', name(role), 'id', '-u'])).toBe('1000');
    });

    it.each(ROLES)('the HEALTHCHECK of %s reports healthy, and unhealthy when nothing answers', async (role) => {
      // Run on demand: podman schedules the periodic checks with systemd timers, which a machine without systemd lacks.
      expect((await podman(['healthcheck', 'run', name(role)])).code).toBe(0);
      expect(await ok(['inspect', '--format', '{{.State.Healthcheck.Status}}', name(role)])).toBe('healthy');
      // The same check pointed at a port where nothing listens must fail, naming the role and the address.
      const portVariable = `${role.toUpperCase()}_PORT`;
      const nobody = await reservePort();
      const dead = await podman(['exec', '--env', `${portVariable}=${nobody}`, name(role), 'node', '/app/healthcheck.mjs']);
      expect(dead.code).toBe(1);
      expect(dead.stderr).toContain(`unhealthy: ${role} at http://127.0.0.1:${nobody}/healthz`);
    });

    it('the gateway container serves the web app', async () => {
      const index = await fetch(`http://127.0.0.1:${PORTS.gateway}/`);
      expect(index.status).toBe(200);
      expect(index.headers.get('content-type')).toMatch(/^text\/html/);
      const html = await index.text();
      expect(html).toContain('<div id="root">');
      // The page's own script is served too, from the built assets.
      const script = /<script[^>]+src="(\/assets\/[^"]+\.js)"/.exec(html)?.[1];
      expect(script).toBeDefined();
      const asset = await fetch(`http://127.0.0.1:${PORTS.gateway}${script}`);
      expect(asset.status).toBe(200);
      expect(asset.headers.get('content-type')).toMatch(/javascript/);
      // A client-side route gets the app as well.
      expect((await fetch(`http://127.0.0.1:${PORTS.gateway}/my/tickets`)).status).toBe(200);
    });

    it('the gateway container proxies the API to the service containers: sign up, publish, buy', async () => {
      const api = client(`http://127.0.0.1:${PORTS.gateway}/api`);
      // engagement: accounts and tokens; events: verifies the token with engagement's keys, stores in /data.
      const organizer = await api.account('organizer');
      const event = await createEvent(api, organizer.token, 50, { title: 'Container Night' });
      const listed = await api.get('/events');
      expect(listed.status).toBe(200);
      expect(listed.body.items.map((e: { id: string }) => e.id)).toContain(event.id);
      // ticketing: learns of the event by message from the events container, then sells a ticket.
      await waitOnSale(api, event.id);
      const attendee = await api.account('attendee');
      const order = await api.post('/orders', { eventId: event.id, ticketTypeId: event.ticketTypes[0]!.id, quantity: 1 }, attendee.token, {
        'idempotency-key': 'image-test-order',
      });
      expect(order.status).toBe(201);
      // engagement: the purchase is announced to the buyer.
      await eventually(
        async () => {
          const notes = await api.get('/notifications', attendee.token);
          return notes.body?.items?.length ? true : undefined;
        },
        20_000,
        'the purchase notification',
      );
    });

    it('an organizer uploads a banner through the gateway container: the events container re-encodes it with sharp into S3, the gateway container serves it', async () => {
      const api = client(`http://127.0.0.1:${PORTS.gateway}/api`);
      const organizer = await api.account('organizer');
      const event = await createEvent(api, organizer.token, 10, { title: 'Banner Night' });
      const png = await sharp({ create: { width: 960, height: 480, channels: 3, background: '#2a6f97' } })
        .png()
        .toBuffer();
      const upload = await fetch(`http://127.0.0.1:${PORTS.gateway}/api/events/${event.id}/banner`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${organizer.token}`, 'content-type': 'image/png' },
        body: png,
      });
      expect(upload.status).toBe(200);
      const { bannerUrl } = (await upload.json()) as { bannerUrl: string };
      expect(bannerUrl).toMatch(new RegExp(`^/banners/${event.id}/[^/]+\\.webp$`));

      const s3Client = new S3Client({ endpoint: s3.endpoint, region: s3.region, credentials: s3.credentials, forcePathStyle: true });
      const stored = await s3Client.send(new ListObjectsV2Command({ Bucket: BANNER_BUCKET, Prefix: `banners/${event.id}/` }));
      expect(stored.Contents?.map((o) => `/${o.Key}`)).toContain(bannerUrl);
      s3Client.destroy();

      const served = await fetch(`http://127.0.0.1:${PORTS.gateway}${bannerUrl}`);
      expect(served.status).toBe(200);
      expect(served.headers.get('content-type')).toBe('image/webp');
      expect(served.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
      const webp = Buffer.from(await served.arrayBuffer());
      expect(webp.subarray(8, 12).toString('latin1')).toBe('WEBP');
    });

    it("runs compose's one-shot services: `secrets` makes the secret files once, `demo` the demo data once, through the gateway", async () => {
      // As compose.yaml runs them: the image's own scripts, a named volume at /data, as the image's user.
      const oneShot = async (volume: string, ...command: string[]) => {
        await podman(['volume', 'create', '--label', LABEL, volume]);
        return ok([...RUN, '--rm', '--no-healthcheck', '--label', LABEL, '--volume', `${volume}:/data`, '--entrypoint', 'node', IMAGE, ...command], 60_000);
      };
      const listSecrets = ['/bin/sh', '-c', 'stat -c "%n %u %a" /data/*'];
      await oneShot('dems-image-test-secrets', '/app/deploy/make-secrets.mjs', '/data');
      const made = await ok([
        ...RUN,
        '--rm',
        '--no-healthcheck',
        '--label',
        LABEL,
        '--volume',
        'dems-image-test-secrets:/data',
        '--entrypoint',
        listSecrets[0]!,
        IMAGE,
        ...listSecrets.slice(1),
      ]);
      expect(made.split('\n').sort()).toEqual(['/data/JWT_SIGNING_KEY 1000 400', '/data/SERVICE_SECRET 1000 400']);

      const seed = () => oneShot('dems-image-test-demo', '/app/deploy/seed-demo.mjs', `http://127.0.0.1:${PORTS.gateway}`, '/data');
      const first = await seed();
      expect(first).toMatch(/^Demo organizer: organizer@demo\.dems\.local \/ demo-[0-9a-f]{12}\b/m);
      const events = await client(`http://127.0.0.1:${PORTS.gateway}/api`).get('/events?q=Jazz%20Night');
      expect(events.body.items.map((e: { title: string }) => e.title)).toContain('Jazz Night at the Blue Room');
      // A second start finds the credentials in its volume: it shows them again and adds nothing.
      const second = await seed();
      expect(second.split('\n')[0]).toBe(first.split('\n')[0]);
      expect((await client(`http://127.0.0.1:${PORTS.gateway}/api`).get('/events?q=Jazz%20Night')).body.items).toHaveLength(1);
    });

    it('stops cleanly on SIGTERM: exit code 0 within seconds', async () => {
      const started = Date.now();
      await ok(['stop', '--time', '20', name('events')], 30_000);
      const exitCode = await ok(['inspect', '--format', '{{.State.ExitCode}}', name('events')]);
      expect(exitCode).toBe('0');
      expect(Date.now() - started).toBeLessThan(15_000);
    });
  });
});

if (podmanProblem) {
  describe.skip(`the dems image — skipped: ${podmanProblem}`, () => {
    it('runs where podman works', () => {});
  });
}
