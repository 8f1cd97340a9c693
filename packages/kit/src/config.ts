import { readFileSync } from 'node:fs';
import { DEFAULT_PORTS } from '@dems/contracts';
import { z } from 'zod';
import { urlList } from './upstreams.js';

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** The largest request body in bytes; the gateway applies the same setting before it forwards anything. */
export const BodyLimit = z.coerce.number().int().min(1024).max(10_000_000).default(100_000);

/** A lag no healthy replica shows even in a flash sale; beyond it, waiting requests would take seconds. */
export const DEFAULT_MAX_EVENT_LOOP_DELAY_MS = 1000;
/** The wait in a queue that is worse than a quick "busy, try again": a second. */
export const DEFAULT_MAX_QUEUE_DELAY_MS = 1000;

/**
 * How a replica stops and when it sheds load (runService, createServiceApp). The gateway has these too.
 * See docs/adr/008-graceful-stop-and-load-shedding.md.
 */
export const RuntimeConfig = z.object({
  /**
   * On SIGTERM, how long a replica keeps serving while reporting not ready, so that a load balancer stops
   * sending to it first (Kubernetes: a few seconds, within terminationGracePeriodSeconds). 0 with `npm start`.
   */
  SHUTDOWN_DRAIN_SECONDS: z.coerce.number().int().min(0).max(300).default(0),
  /** After the drain, how long requests in flight and outbox deliveries may take before the process exits anyway (exit 1). */
  SHUTDOWN_TIMEOUT_SECONDS: z.coerce.number().int().min(1).max(600).default(10),
  /** Answer 503 OVERLOADED (Retry-After) while the event loop lags more than this many ms on average; 0 never sheds. */
  MAX_EVENT_LOOP_DELAY_MS: z.coerce.number().int().min(0).max(60_000).default(DEFAULT_MAX_EVENT_LOOP_DELAY_MS),
  /**
   * Answer 503 OVERLOADED for a route while its requests stand in a queue: in the last second even its quickest
   * answers (20 or more) took longer than this many ms. Catches queues behind a responsive event loop; 0 never sheds.
   */
  MAX_QUEUE_DELAY_MS: z.coerce.number().int().min(0).max(600_000).default(DEFAULT_MAX_QUEUE_DELAY_MS),
});
export type RuntimeConfig = z.infer<typeof RuntimeConfig>;

/** redis://[[user]:password@]host[:port][/db] or rediss://… for TLS. */
/** A comma-separated setting, as its items trimmed, empty ones dropped (`fallback` when unset; '' is none). */
export const commaList = (fallback = '') => z.string().default(fallback).transform(splitList);

/** "a, b,,c" → ['a', 'b', 'c']. */
export const splitList = (text: string): string[] =>
  text
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);

export const RedisUrl = z.url({ protocol: /^rediss?$/, hostname: /./, error: 'must be a redis:// or rediss:// URL naming a host, e.g. redis://127.0.0.1:6379' });

/**
 * Settings every process has, the gateway included: where it listens and logs, where its files and AWS are, how
 * large a request may be, and where each service is reached. The gateway extends this; services extend BaseConfig.
 */
export const ProcessConfig = z.object({
  ...RuntimeConfig.shape,
  HOST: z.string().default('127.0.0.1'),
  DATA_DIR: z.string().default('./data'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** The region of the AWS services a process uses (DynamoDB with STORE=dynamodb, S3 with BANNER_STORE=s3). */
  AWS_REGION: z.string().min(1).default('us-east-1'),
  BODY_LIMIT_BYTES: BodyLimit,
  /**
   * Where each service is reached: one URL, or a comma-separated list with one per replica. The gateway balances
   * requests over the replicas that answer (docs/adr/010-gateway-balancing-and-retries.md).
   */
  EVENTS_URL: urlList(`http://127.0.0.1:${DEFAULT_PORTS.events}`),
  TICKETING_URL: urlList(`http://127.0.0.1:${DEFAULT_PORTS.ticketing}`),
  ENGAGEMENT_URL: urlList(`http://127.0.0.1:${DEFAULT_PORTS.engagement}`),
});
export type ProcessConfig = z.infer<typeof ProcessConfig>;

/** Settings every service shares (storage, the service secret, messaging, Redis); each service extends this with its own. */
export const BaseConfig = ProcessConfig.extend({
  SERVICE_SECRET: z.string().min(16, 'must be at least 16 characters'),
  STORE: z.enum(['sqlite', 'dynamodb']).default('sqlite'),
  /** DynamoDB (STORE=dynamodb): an endpoint for DynamoDB Local, and a prefix for every table name. */
  DYNAMODB_ENDPOINT: z.url().optional(),
  TABLE_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_.-]*$/, 'may contain only letters, digits, _ . and -')
    .max(100)
    .default(''),
  /** Development only: create missing DynamoDB tables at start (production tables come from infrastructure code). */
  DYNAMODB_CREATE_TABLES: z.stringbool().default(false),
  /** FULL: a committed order survives power loss. NORMAL: survives a process crash only. */
  SQLITE_SYNCHRONOUS: z.enum(['FULL', 'NORMAL']).default('FULL'),
  OUTBOX_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(10_000).default(60),
  /**
   * The Redis that replicas share (rate limits, one-time values, live sockets, revocations): redis:// or
   * rediss:// (TLS). Unset: one replica, that state in its memory (docs/adr/012-redis-for-shared-state.md).
   */
  // Empty is unset, as in .env.example.
  REDIS_URL: z.preprocess((v) => (v === '' ? undefined : v), RedisUrl.optional()),
  /**
   * Who may tell a service the client's address (X-Forwarded-For): the gateway. `loopback` fits `npm start`;
   * in containers list the gateway's addresses or subnet (comma separated, CIDR allowed).
   */
  TRUST_PROXY: commaList('loopback'),
});

export const Port = z.coerce.number().int().min(0).max(65535);

/** When a replica sheds load (createServiceApp's `shedding`), from a service's configuration. */
export function sheddingSettings(config: Pick<RuntimeConfig, 'MAX_EVENT_LOOP_DELAY_MS' | 'MAX_QUEUE_DELAY_MS'>) {
  return { maxEventLoopDelayMs: config.MAX_EVENT_LOOP_DELAY_MS, maxQueueDelayMs: config.MAX_QUEUE_DELAY_MS };
}

/** The DynamoDB adapters' settings from a service's configuration. */
export function dynamoSettings(config: { AWS_REGION: string; DYNAMODB_ENDPOINT?: string; TABLE_PREFIX: string }) {
  return { region: config.AWS_REGION, endpoint: config.DYNAMODB_ENDPOINT, tablePrefix: config.TABLE_PREFIX };
}

/**
 * `node services/<name>/dist/main.js --create-tables` (npm run db:create-tables): create the service's missing
 * DynamoDB tables and exit, instead of serving.
 */
export async function createTablesAndExit(name: string, create: (log: (line: string) => void) => Promise<void>): Promise<never> {
  try {
    await create((line) => console.log(`[${name}] ${line}`));
    console.log(`[${name}] DynamoDB tables are ready.`);
    process.exit(0);
  } catch (err) {
    console.error(`[${name}] ${err instanceof ConfigError ? err.message : `could not create the tables: ${(err as Error).message}`}`);
    process.exit(1);
  }
}

/**
 * The settings that are secrets. Each may be given as a file instead: `<NAME>_FILE` names a file holding the value,
 * the convention of Docker and Kubernetes secrets mounted as files. Such a value stays out of the process
 * environment, which `docker inspect`, `/proc/<pid>/environ` and crash reports show.
 */
export const SECRET_SETTINGS = ['SERVICE_SECRET', 'JWT_SIGNING_KEY', 'ADMIN_PASSWORD', 'REDIS_URL'] as const;

/** Set means not empty: `NAME=` in an env file or a compose environment is how a setting is left unset. */
const isSet = (value: string | undefined): value is string => value !== undefined && value !== '';

/**
 * The environment with each secret in `names` that is given as `<NAME>_FILE` read from its file (trailing line
 * breaks dropped: `echo secret > file` adds one). `problems` name the setting to fix; `fromFile` says which values
 * came from which variable, for messages.
 */
export function secretsFromFiles(
  env: Record<string, string | undefined>,
  names: readonly string[] = SECRET_SETTINGS,
): { env: Record<string, string | undefined>; problems: Map<string, string>; fromFile: Map<string, string> } {
  const resolved = { ...env };
  const problems = new Map<string, string>();
  const fromFile = new Map<string, string>();
  for (const name of names) {
    const fileVariable = `${name}_FILE`;
    const path = env[fileVariable];
    if (!isSet(path)) continue;
    if (isSet(env[name])) {
      problems.set(name, `${name} and ${fileVariable} are both set: set only one (${fileVariable} names a file holding the value)`);
      continue;
    }
    try {
      resolved[name] = readFileSync(path, 'utf8').replace(/[\r\n]+$/, '');
      fromFile.set(name, fileVariable);
    } catch (err) {
      const reason = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
      problems.set(name, `${fileVariable} ("${path}"): cannot read the file (${reason}); make it readable by this process or unset ${fileVariable}`);
    }
  }
  return { env: resolved, problems, fromFile };
}

/**
 * Parses the environment once. Every bad variable is named in one error, so a misconfigured
 * deployment is fixed in one go rather than one restart per variable. A secret setting the schema declares may
 * come from a file named by `<NAME>_FILE` (SECRET_SETTINGS).
 */
export function loadConfig<S extends z.ZodType>(schema: S, env: Record<string, string | undefined> = process.env): z.infer<S> {
  const declared = schema instanceof z.ZodObject ? Object.keys(schema.shape) : [];
  const secrets = secretsFromFiles(
    env,
    SECRET_SETTINGS.filter((name) => declared.includes(name)),
  );
  const result = schema.safeParse(secrets.env);
  if (result.success && secrets.problems.size === 0) return result.data;
  const issues = result.success ? [] : result.error.issues;
  throw new ConfigError([
    ...secrets.problems.values(),
    ...issues
      .map((i) => ({ name: i.path.join('.') || '(environment)', message: i.message }))
      // A secret whose file could not be read is reported once, as that, not again as missing.
      .filter(({ name }) => !secrets.problems.has(name))
      .map(({ name, message }) => {
        const value = secrets.env[name];
        const file = secrets.fromFile.get(name);
        // A REDIS_URL may carry a password.
        const shown = value === undefined ? 'not set' : file ? `from ${file}` : /SECRET|PASSWORD|KEY|TOKEN|REDIS_URL/.test(name) ? 'set' : `"${value}"`;
        return `${name} (${shown}): ${message}`;
      }),
  ]);
}
