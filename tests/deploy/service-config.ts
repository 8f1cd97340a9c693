// What the deployment tests (compose, Kubernetes) check a container's environment against: each role's own zod
// config schema, loaded exactly as the process loads it (loadConfig, with <NAME>_FILE secrets).
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, SECRET_SETTINGS } from '@dems/kit';
import { EngagementConfig } from '../../services/engagement/src/config.js';
import { EventsConfig } from '../../services/events/src/config.js';
import { GatewayConfig } from '../../services/gateway/src/config.js';
import { TicketingConfig } from '../../services/ticketing/src/config.js';

export const ROOT = join(import.meta.dirname, '..', '..');

/** The image's roles: `dems <role>`. */
export const ROLES = ['events', 'ticketing', 'engagement', 'gateway'] as const;
export type Role = (typeof ROLES)[number];
/** The services behind the gateway. */
export const SERVICES = ['events', 'ticketing', 'engagement'] as const satisfies readonly Role[];

export const CONFIG_SCHEMAS = { events: EventsConfig, ticketing: TicketingConfig, engagement: EngagementConfig, gateway: GatewayConfig };

/** The variable that sets a role's listening port. */
export const PORT_VARIABLE: Record<Role, string> = { events: 'EVENTS_PORT', ticketing: 'TICKETING_PORT', engagement: 'ENGAGEMENT_PORT', gateway: 'GATEWAY_PORT' };

/** The variable that says where a service is reached. */
export const URL_VARIABLE: Record<(typeof SERVICES)[number], string> = { events: 'EVENTS_URL', ticketing: 'TICKETING_URL', engagement: 'ENGAGEMENT_URL' };

/**
 * Variables a DEMS process reads that its config schema does not declare: the AWS SDK's credential chain (a local
 * S3 server or DynamoDB Local needs static keys), Node.js itself, and OpenTelemetry's own settings.
 */
const READ_ELSEWHERE = /^(AWS_ACCESS_KEY_ID|AWS_SECRET_ACCESS_KEY|AWS_SESSION_TOKEN|NODE_OPTIONS|NODE_EXTRA_CA_CERTS|OTEL_[A-Z_]+)$/;

/** The settings a role understands: its schema's variables, <NAME>_FILE for its secrets, and those read elsewhere. */
export function unknownVariables(role: Role, names: Iterable<string>): string[] {
  const declared = new Set(Object.keys(CONFIG_SCHEMAS[role].shape));
  const secretFiles = new Set(SECRET_SETTINGS.filter((s) => declared.has(s)).map((s) => `${s}_FILE`));
  return [...names].filter((name) => !declared.has(name) && !secretFiles.has(name) && !READ_ELSEWHERE.test(name));
}

/** The role's configuration as its process would load it; throws the process's own ConfigError. */
export function loadRoleConfig<R extends Role>(role: R, env: Record<string, string | undefined>) {
  return loadConfig(CONFIG_SCHEMAS[role], env) as ReturnType<(typeof CONFIG_SCHEMAS)[R]['parse']>;
}

/** The port a role listens on, as its configuration reads it from this environment. */
export function listeningPort(role: Role, env: Record<string, string | undefined>): number {
  return (loadRoleConfig(role, env) as unknown as Record<string, number>)[PORT_VARIABLE[role]]!;
}

/** SERVICE_SECRET and JWT_SIGNING_KEY as deploy/make-secrets.mjs makes them (for real), in a fresh directory. */
export function makeSecrets(): { dir: string; files: string[] } {
  const dir = join(mkdtempSync(join(tmpdir(), 'dems-deploy-secrets-')), 'secrets');
  const out = execFileSync(process.execPath, [join(ROOT, 'deploy', 'make-secrets.mjs'), dir], { encoding: 'utf8' });
  return { dir, files: [...out.matchAll(/^\[secrets\] ([A-Z_]+): created /gm)].map((m) => m[1]!) };
}
