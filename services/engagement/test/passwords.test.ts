import { randomBytes, scryptSync } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { hashPassword, verifyPassword } from '../src/identity/passwords.js';

const PASSWORD = 'correct horse battery';

/** A stored hash made the way an older (or future) deployment might have: its own N, r, p, salt and key length. */
function storedHash(password: string, { N, r, p, salt = randomBytes(16), keyLength = 32 }: { N: number; r: number; p: number; salt?: Buffer; keyLength?: number }) {
  const key = keyLength === 0 ? Buffer.alloc(0) : scryptSync(password, salt, keyLength, { N, r, p });
  return ['scrypt', N, r, p, salt.toString('base64'), key.toString('base64')].join('$');
}

describe('password hashes', () => {
  let current: string;
  beforeAll(async () => {
    current = await hashPassword(PASSWORD);
  });

  it('carry their parameters: a hash made with other N, r, p and key length still verifies', async () => {
    const older = storedHash(PASSWORD, { N: 1024, r: 4, p: 2 });
    expect(await verifyPassword(PASSWORD, older)).toBe(true);
    expect(await verifyPassword('correct horse batterY', older)).toBe(false);
  });

  it('compare passwords after NFKC normalisation, so the same text typed on another keyboard matches', async () => {
    const composed = 'caf\u00e9 horse battery';
    const hash = storedHash(composed, { N: 1024, r: 1, p: 1 });
    expect(await verifyPassword('cafe\u0301 horse battery', hash)).toBe(true);
    expect(await verifyPassword('ｃａｆｅ\u0301 horse battery', hash)).toBe(true);
  });

  it('never match when the stored hash is not a scrypt hash of six parts, even if the rest is right', async () => {
    expect(await verifyPassword(PASSWORD, current)).toBe(true);
    const [, ...rest] = current.split('$');
    expect(await verifyPassword(PASSWORD, ['bcrypt', ...rest].join('$'))).toBe(false);
    expect(await verifyPassword(PASSWORD, `${current}$extra`)).toBe(false);
    expect(await verifyPassword(PASSWORD, `extra$${current}`)).toBe(false);
  });

  it('never match with a zero parameter, which scrypt would silently read as its default', async () => {
    // The current hash uses 16384, 8, 1: scrypt's defaults, which a 0 in any place would fall back to.
    const [scheme, N, r, p, salt, key] = current.split('$') as [string, string, string, string, string, string];
    for (const [why, parts] of Object.entries({
      'N 0': [scheme, '0', r, p, salt, key],
      'r 0': [scheme, N, '0', p, salt, key],
      'p 0': [scheme, N, r, '0', salt, key],
    })) {
      expect(await verifyPassword(PASSWORD, parts.join('$')), why).toBe(false);
    }
  });

  it('never match, and never throw, when the stored hash is malformed', async () => {
    const malformed = {
      'no salt': storedHash(PASSWORD, { N: 1024, r: 1, p: 1, salt: Buffer.alloc(0) }),
      'no key': storedHash(PASSWORD, { N: 1024, r: 1, p: 1, keyLength: 0 }),
      'N not a number': storedHash(PASSWORD, { N: 1024, r: 1, p: 1 }).replace('$1024$', '$many$'),
      'N not a power of two': storedHash(PASSWORD, { N: 1024, r: 1, p: 1 }).replace('$1024$', '$1000$'),
      'N beyond the memory allowed': storedHash(PASSWORD, { N: 1024, r: 1, p: 1 }).replace('$1024$', '$1048576$'),
      'empty parts': 'scrypt$$$$$',
    };
    for (const [why, stored] of Object.entries(malformed)) await expect(verifyPassword(PASSWORD, stored), why).resolves.toBe(false);
  });
});
