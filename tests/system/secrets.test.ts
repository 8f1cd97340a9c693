import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EngagementConfig } from '../../services/engagement/src/config.js';
import { EventsConfig } from '../../services/events/src/config.js';
import { GatewayConfig } from '../../services/gateway/src/config.js';
import { TicketingConfig } from '../../services/ticketing/src/config.js';

const ROOT = new URL('../..', import.meta.url).pathname;

/** Patterns of credentials that must never be committed (cloud keys, private keys, tokens). */
const LEAKS: [string, RegExp][] = [
  ['AWS access key id', /\b(AKIA|ASIA)[0-9A-Z]{16}\b/],
  ['AWS secret access key', /aws_secret_access_key\s*[=:]\s*[A-Za-z0-9/+]{40}/i],
  ['private key block', /-----BEGIN (RSA |EC |OPENSSH |)PRIVATE KEY-----/],
  ['private JWK', /"d"\s*:\s*"[A-Za-z0-9_-]{40,}"/],
  ['GitHub token', /\bgh[pousr]_[A-Za-z0-9]{36}\b/],
  ['Slack token', /\bxox[baprs]-[A-Za-z0-9-]{10,}/],
  ['Google API key', /\bAIza[0-9A-Za-z_-]{35}\b/],
  ['signed JWT', /\beyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{20,}/],
];

describe('secrets', () => {
  it('none are committed: no tracked file holds a credential', () => {
    const files = execFileSync('git', ['ls-files', '-z'], { cwd: ROOT, encoding: 'utf8' }).split('\0').filter(Boolean);
    const found: string[] = [];
    for (const file of files) {
      if (file === 'package-lock.json' || !existsSync(join(ROOT, file))) continue;
      const text = readFileSync(join(ROOT, file));
      if (text.includes(0)) continue; // binary
      const content = text.toString('utf8');
      for (const [what, pattern] of LEAKS) if (pattern.test(content)) found.push(`${file}: ${what}`);
    }
    expect(found).toEqual([]);
  });

  it('data, keys and env files are ignored by git', () => {
    const ignored = (path: string) => {
      try {
        execFileSync('git', ['check-ignore', '-q', path], { cwd: ROOT });
        return true;
      } catch {
        return false;
      }
    };
    for (const path of ['.env', 'data/engagement-signing-keys.json', 'data/service-secret', 'data/engagement.db']) expect(ignored(path), path).toBe(true);
  });

  it('.env.example documents every configuration variable, with placeholders only', () => {
    const example = readFileSync(join(ROOT, '.env.example'), 'utf8');
    const documented = new Set([...example.matchAll(/^([A-Z][A-Z0-9_]+)=/gm)].map((m) => m[1]));
    const names = new Set([EngagementConfig, EventsConfig, TicketingConfig, GatewayConfig].flatMap((schema) => Object.keys(schema.shape)));
    expect([...names].filter((n) => !documented.has(n))).toEqual([]);
    expect(example).toMatch(/^SERVICE_SECRET=replace-with/m);
    expect(example).toMatch(/^ADMIN_PASSWORD=replace-with/m);
    expect(example).toMatch(/^JWT_SIGNING_KEY=$/m);
  });
});
