import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TEST_SECRET, tempDir } from '@dems/kit/testing';
import { Accounts, hashRefreshToken, type AccountOptions } from '../src/identity/accounts.js';
import { verifyPassword } from '../src/identity/passwords.js';
import { SigningKeys } from '../src/identity/signing-keys.js';
import { SqliteEngagementStore } from '../src/store/sqlite.js';

const PASSWORD = 'correct horse battery';
const IP = '10.0.0.1';

let dir: ReturnType<typeof tempDir>;
let store: SqliteEngagementStore;
let keys: SigningKeys;
/** Accounts as the start-up bootstrap builds them: no live notifications, so no sockets to close. */
const accountsOn = (on: SqliteEngagementStore, more: Partial<AccountOptions> = {}) =>
  new Accounts(on, keys, { accessTtlSeconds: 900, refreshTtlSeconds: 3600, secret: TEST_SECRET, ...more });

beforeEach(async () => {
  dir = tempDir('dems-accounts-');
  store = new SqliteEngagementStore({ file: join(dir.path, 'engagement.db'), synchronous: 'NORMAL' });
  keys = await SigningKeys.load({ file: join(dir.path, 'keys.json') });
});
afterEach(async () => {
  await store.close();
  dir.cleanup();
});

describe('the bootstrap admin', () => {
  it('is created once when two replicas start together: the one that loses the race finds the winner’s admin', async () => {
    const other = accountsOn(store);
    let raced = false;
    // The other replica creates the admin between this one's look-up and its insert.
    const racing = new Proxy(store, {
      get(target, prop, receiver) {
        if (prop !== 'findCredentials') return Reflect.get(target, prop, receiver) as unknown;
        return async (email: string) => {
          const found = await target.findCredentials(email);
          if (!raced) {
            raced = true;
            expect(await other.ensureAdmin('root@example.com', 'an admin passphrase')).toBe('created');
          }
          return found;
        };
      },
    });
    expect(await accountsOn(racing).ensureAdmin('Root@Example.com', 'an admin passphrase')).toBe('exists');
    const admin = await store.findCredentials('root@example.com');
    expect(admin?.user).toMatchObject({ email: 'root@example.com', role: 'admin', name: 'Administrator' });
    expect(await verifyPassword('an admin passphrase', admin!.passwordHash)).toBe(true);
  });

  it('is refused a password that is its email, whatever the case, and nothing is created', async () => {
    const refused = accountsOn(store).ensureAdmin('root@example.com', 'ROOT@example.com');
    await expect(refused).rejects.toMatchObject({ code: 'VALIDATION_FAILED', message: 'body.password: must not be your email address' });
    expect(await store.findCredentials('root@example.com')).toBeNull();
  });
});

describe('sign-up', () => {
  it('tells someone whose email is taken, in any case, to sign in instead', async () => {
    const accounts = accountsOn(store);
    const user = await accounts.signUp({ email: 'Ada@Example.com', password: PASSWORD, name: 'Ada', role: 'attendee' }, IP);
    expect(user.email).toBe('ada@example.com');
    await expect(accounts.signUp({ email: 'ADA@example.com', password: PASSWORD, name: 'Ada', role: 'attendee' }, IP)).rejects.toMatchObject({
      code: 'EMAIL_TAKEN',
      message: 'An account with this email already exists. Sign in instead, or use another email.',
    });
  });
});

describe('sessions without live notifications (the start-up bootstrap)', () => {
  it('refuses to refresh the session of a user who no longer exists', async () => {
    const now = new Date();
    const token = 'a-refresh-token-of-a-deleted-user';
    await store.saveRefreshToken({
      hash: hashRefreshToken(token),
      userId: 'usr_gone',
      familyId: 'rtf_gone',
      createdAt: now.toISOString(),
      expiresAt: new Date(now.getTime() + 3600_000).toISOString(),
    });
    await expect(accountsOn(store).refresh(token)).rejects.toMatchObject({
      code: 'INVALID_REFRESH_TOKEN',
      message: 'This session has ended. Please sign in again.',
    });
  });

  it('ends sessions on replay, sign-out and sign-out everywhere without any socket to close', async () => {
    const accounts = accountsOn(store);
    const user = await accounts.signUp({ email: 'ada@example.com', password: PASSWORD, name: 'Ada', role: 'attendee' }, IP);
    const first = await accounts.signIn({ email: 'ada@example.com', password: PASSWORD }, IP);
    await accounts.refresh(first.refreshToken);
    await expect(accounts.refresh(first.refreshToken)).rejects.toMatchObject({ code: 'INVALID_REFRESH_TOKEN' });

    const second = await accounts.signIn({ email: 'ada@example.com', password: PASSWORD }, IP);
    await accounts.logout(second.refreshToken);
    await expect(accounts.refresh(second.refreshToken)).rejects.toMatchObject({ code: 'INVALID_REFRESH_TOKEN' });

    const third = await accounts.signIn({ email: 'ada@example.com', password: PASSWORD }, IP);
    expect(await accounts.logoutEverywhere(user.id)).toBe(1);
    await expect(accounts.refresh(third.refreshToken)).rejects.toMatchObject({ code: 'INVALID_REFRESH_TOKEN' });
  });
});
