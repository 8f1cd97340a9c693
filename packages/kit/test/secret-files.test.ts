import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { BaseConfig, ConfigError, loadConfig, SECRET_SETTINGS } from '@dems/kit';

// Real files in a temporary directory: the convention exists to read Docker and Kubernetes secret files.
const dir = mkdtempSync(join(tmpdir(), 'dems-secret-files-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
/** A file holding `content`; its path. */
function secretFile(content: string): string {
  const file = join(dir, `secret-${++files}`);
  writeFileSync(file, content, { mode: 0o600 });
  return file;
}

/** The ConfigError's problems, one per line; fails when loading does not throw one. */
function problemsOf(load: () => unknown): string[] {
  try {
    load();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems;
  }
  throw new Error('expected a ConfigError');
}

const SECRET = 'a-service-secret-of-32-characters';

describe('<NAME>_FILE: a secret setting read from a file', () => {
  it('covers the settings that are secrets', () => {
    expect([...SECRET_SETTINGS].sort()).toEqual(['ADMIN_PASSWORD', 'JWT_SIGNING_KEY', 'REDIS_URL', 'SERVICE_SECRET']);
  });

  it('reads the value from the file when the variable is unset, without the trailing line break', () => {
    expect(loadConfig(BaseConfig, { SERVICE_SECRET_FILE: secretFile(`${SECRET}\n`) }).SERVICE_SECRET).toBe(SECRET);
    expect(loadConfig(BaseConfig, { SERVICE_SECRET_FILE: secretFile(`${SECRET}\r\n`) }).SERVICE_SECRET).toBe(SECRET);
    expect(loadConfig(BaseConfig, { SERVICE_SECRET_FILE: secretFile(SECRET) }).SERVICE_SECRET).toBe(SECRET);
  });

  it('keeps everything else in the file: a multi-line key, inner and leading spaces', () => {
    const jwk = '{\n  "kty": "OKP",\n  "crv": "Ed25519"\n}';
    const schema = BaseConfig.extend({ JWT_SIGNING_KEY: z.string().optional() });
    const config = loadConfig(schema, { SERVICE_SECRET: SECRET, JWT_SIGNING_KEY_FILE: secretFile(`${jwk}\n\n`) });
    expect(config.JWT_SIGNING_KEY).toBe(jwk);
    expect(loadConfig(BaseConfig, { SERVICE_SECRET_FILE: secretFile(`  ${SECRET} x\n`) }).SERVICE_SECRET).toBe(`  ${SECRET} x`);
  });

  it('counts an empty variable as unset, so NAME= beside NAME_FILE reads the file', () => {
    expect(loadConfig(BaseConfig, { SERVICE_SECRET: '', SERVICE_SECRET_FILE: secretFile(SECRET) }).SERVICE_SECRET).toBe(SECRET);
  });

  it('ignores an empty NAME_FILE: the variable itself is then required as usual', () => {
    expect(loadConfig(BaseConfig, { SERVICE_SECRET: SECRET, SERVICE_SECRET_FILE: '' }).SERVICE_SECRET).toBe(SECRET);
    expect(problemsOf(() => loadConfig(BaseConfig, { SERVICE_SECRET_FILE: '' }))).toEqual([expect.stringMatching(/^SERVICE_SECRET \(not set\): /)]);
  });

  it('refuses both the variable and its file, naming both', () => {
    const problems = problemsOf(() => loadConfig(BaseConfig, { SERVICE_SECRET: SECRET, SERVICE_SECRET_FILE: secretFile(SECRET) }));
    expect(problems).toEqual(['SERVICE_SECRET and SERVICE_SECRET_FILE are both set: set only one (SERVICE_SECRET_FILE names a file holding the value)']);
  });

  it('refuses a file it cannot read, naming NAME_FILE and the path, once (not also as a missing setting)', () => {
    const missing = join(dir, 'no-such-file');
    expect(problemsOf(() => loadConfig(BaseConfig, { SERVICE_SECRET_FILE: missing }))).toEqual([
      `SERVICE_SECRET_FILE ("${missing}"): cannot read the file (ENOENT); make it readable by this process or unset SERVICE_SECRET_FILE`,
    ]);
    const directory = join(dir, 'a-directory');
    mkdirSync(directory);
    expect(problemsOf(() => loadConfig(BaseConfig, { SERVICE_SECRET_FILE: directory }))).toEqual([
      expect.stringMatching(new RegExp(`^SERVICE_SECRET_FILE \\("${directory}"\\): cannot read the file \\(EISDIR\\)`)),
    ]);
  });

  it('validates the value read like any other, saying where it came from and never showing it', () => {
    const problems = problemsOf(() => loadConfig(BaseConfig, { SERVICE_SECRET_FILE: secretFile('too-short\n'), LOG_LEVEL: 'loud' }));
    expect(problems).toContain('SERVICE_SECRET (from SERVICE_SECRET_FILE): must be at least 16 characters');
    expect(problems.some((p) => p.startsWith('LOG_LEVEL ("loud")'))).toBe(true);
    expect(problems.join('\n')).not.toContain('too-short');
  });

  it('reports file problems together with every other bad variable, in one error', () => {
    const problems = problemsOf(() =>
      loadConfig(BaseConfig, { SERVICE_SECRET: SECRET, SERVICE_SECRET_FILE: secretFile(SECRET), REDIS_URL_FILE: join(dir, 'gone'), STORE: 'mysql' }),
    );
    expect(problems).toHaveLength(3);
    expect(problems[0]).toMatch(/^SERVICE_SECRET and SERVICE_SECRET_FILE are both set/);
    expect(problems[1]).toMatch(/^REDIS_URL_FILE \(".*gone"\): cannot read the file/);
    expect(problems[2]).toMatch(/^STORE \("mysql"\): /);
  });

  it('reads REDIS_URL (it may carry a password) and ADMIN_PASSWORD from files too', () => {
    const url = 'rediss://:a-password@redis.example:6379';
    expect(loadConfig(BaseConfig, { SERVICE_SECRET: SECRET, REDIS_URL_FILE: secretFile(`${url}\n`) }).REDIS_URL).toBe(url);
    const schema = BaseConfig.extend({ ADMIN_PASSWORD: z.string().optional() });
    expect(loadConfig(schema, { SERVICE_SECRET: SECRET, ADMIN_PASSWORD_FILE: secretFile('an admin passphrase\n') }).ADMIN_PASSWORD).toBe('an admin passphrase');
  });

  it('works on a schema with cross-field rules (engagement refines its object)', () => {
    const schema = BaseConfig.extend({ JWT_SIGNING_KEY: z.string().optional() }).superRefine((c, ctx) => {
      if (c.REDIS_URL && !c.JWT_SIGNING_KEY) ctx.addIssue({ code: 'custom', path: ['JWT_SIGNING_KEY'], message: 'required with REDIS_URL' });
    });
    const env = { SERVICE_SECRET: SECRET, REDIS_URL: 'redis://redis:6379' };
    expect(problemsOf(() => loadConfig(schema, env))).toEqual(['JWT_SIGNING_KEY (not set): required with REDIS_URL']);
    expect(loadConfig(schema, { ...env, JWT_SIGNING_KEY_FILE: secretFile('{"kty":"OKP"}\n') }).JWT_SIGNING_KEY).toBe('{"kty":"OKP"}');
  });

  it('leaves alone the files of secrets a process does not use (the gateway has no SERVICE_SECRET)', () => {
    const gatewayLike = z.object({ LOG_LEVEL: z.string().default('info') });
    expect(loadConfig(gatewayLike, { SERVICE_SECRET_FILE: join(dir, 'not-there') })).toEqual({ LOG_LEVEL: 'info' });
  });

  it('reads only NAME_FILE of a secret setting, never of an ordinary one', () => {
    const problems = problemsOf(() => loadConfig(BaseConfig, { SERVICE_SECRET: SECRET, STORE_FILE: secretFile('dynamodb'), STORE: 'nope' }));
    expect(problems).toEqual([expect.stringMatching(/^STORE \("nope"\)/)]);
    expect(loadConfig(BaseConfig, { SERVICE_SECRET: SECRET, STORE_FILE: secretFile('dynamodb') }).STORE).toBe('sqlite');
  });
});
