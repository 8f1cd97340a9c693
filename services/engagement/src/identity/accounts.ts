import { createHash, randomBytes } from 'node:crypto';
import { passwordIsEmail, type SignInBody, type SignInChallenge, type Role, type Session, type SignUpBody, type User } from '@dems/contracts';
import { AppError, newId, SharedState, type Throttle } from '@dems/kit';
import type { z } from 'zod';
import type { LiveNotifications } from '../live/live-notifications.js';
import type { EngagementStore } from '../store/engagement-store.js';
import { SignInChallenges } from './sign-in-challenge.js';
import { dummyPasswordHash, hashPassword, verifyPassword } from './passwords.js';
import type { SigningKeys } from './signing-keys.js';

const INVALID_CREDENTIALS = 'The email or password is incorrect.';
const INVALID_REFRESH = 'This session has ended. Please sign in again.';

/**
 * Abuse limits on the identity routes. Sign-in failures never refuse a right password (ADR 007): past a
 * threshold they make every attempt solve a proof-of-work challenge that doubles with each further failure,
 * up to a cap. Sign-ups answer 429 RATE_LIMITED with Retry-After.
 */
export interface AccountLimits {
  /** Failed sign-ins per account (known or not, so the answer reveals nothing) per window before a challenge is needed. */
  loginFailuresPerAccount: number;
  /** Failed sign-ins per client address per window before a challenge is needed. */
  loginFailuresPerAddress: number;
  loginWindowSeconds: number;
  /** The hardest challenge, in leading zero bits of SHA-256: 16 is about a second or two in a phone's browser. */
  loginChallengeMaxBits: number;
  /** Sign-ups per client address per hour: bounds how fast anyone can probe which emails exist. */
  signUpsPerAddress: number;
}

export const DEFAULT_ACCOUNT_LIMITS: AccountLimits = {
  loginFailuresPerAccount: 10,
  loginFailuresPerAddress: 50,
  loginWindowSeconds: 900,
  loginChallengeMaxBits: 16,
  signUpsPerAddress: 20,
};

/** The first challenge's difficulty: about 256 hashes, unnoticeable; each further failure doubles it. */
const FIRST_CHALLENGE_BITS = 8;

export interface AccountOptions {
  /** Access-token lifetime; at most 15 minutes in production (config). */
  accessTtlSeconds: number;
  refreshTtlSeconds: number;
  limits?: Partial<AccountLimits>;
  /** SERVICE_SECRET: every replica signs and checks sign-in challenges with it. */
  secret: string;
  /** Where revoked sessions' live sockets are closed; without it (the start-up admin bootstrap) there are none. */
  live?: Pick<LiveNotifications, 'closeSockets'>;
  /** Where failures, sign-ups and spent challenges are counted: Redis shared by the replicas, or this process (default). */
  shared?: SharedState;
}

/** Only the SHA-256 of a refresh token is stored: a copy of the database signs nobody in. */
export const hashRefreshToken = (token: string): string => createHash('sha256').update(token).digest('hex');

/** Sign-up, sign-in, sessions (refresh, sign-out) and the bootstrap admin: the identity rules over the store and keys. */
export class Accounts {
  private readonly accountFailures: Throttle;
  private readonly addressFailures: Throttle;
  private readonly signUps: Throttle;
  private readonly challenges: SignInChallenges;
  private readonly limits: AccountLimits;
  private readonly firstBits: number;

  constructor(
    private readonly store: EngagementStore,
    private readonly keys: SigningKeys,
    private readonly opts: AccountOptions,
  ) {
    const limits = { ...DEFAULT_ACCOUNT_LIMITS, ...opts.limits };
    this.limits = limits;
    this.firstBits = Math.min(FIRST_CHALLENGE_BITS, limits.loginChallengeMaxBits);
    // Counted up to where the difficulty stops growing: more would change nothing.
    const saturation = limits.loginChallengeMaxBits - this.firstBits + 1;
    const shared = opts.shared ?? new SharedState();
    const windowMs = limits.loginWindowSeconds * 1000;
    this.accountFailures = shared.throttle({ name: 'engagement:login-failures:account', limit: limits.loginFailuresPerAccount + saturation, windowMs });
    this.addressFailures = shared.throttle({ name: 'engagement:login-failures:address', limit: limits.loginFailuresPerAddress + saturation, windowMs });
    this.challenges = new SignInChallenges(opts.secret, shared.oneTimeValues('engagement:login-challenges'));
    this.signUps = shared.throttle({ name: 'engagement:sign-ups', limit: limits.signUpsPerAddress, windowMs: 3600_000 });
    // Computed up front so even the first unknown-email login costs exactly one scrypt run.
    void dummyPasswordHash();
  }

  async signUp(body: SignUpBody, address: string): Promise<User> {
    await this.signUps.take(address, 'Too many sign-ups from your network.');
    return this.create(body.email, body.password, body.name, body.role);
  }

  /** A challenge for signing in to `email` from `address`, as hard as their recent failures make it (0: none needed now). */
  async challenge(email: string, address: string): Promise<SignInChallenge> {
    const account = email.toLowerCase();
    const [accountFailures, addressFailures] = await Promise.all([this.accountFailures.count(account), this.addressFailures.count(address)]);
    return this.challenges.issue(account, this.challengeBits(accountFailures, addressFailures));
  }

  /** Leading zero bits a sign-in must prove: the higher of what the account's and the address's failures ask. */
  private challengeBits(accountFailures: number, addressFailures: number): number {
    const bits = (failures: number, threshold: number) => (failures < threshold ? 0 : Math.min(this.limits.loginChallengeMaxBits, this.firstBits + failures - threshold));
    return Math.max(bits(accountFailures, this.limits.loginFailuresPerAccount), bits(addressFailures, this.limits.loginFailuresPerAddress));
  }

  async signIn(body: z.infer<typeof SignInBody>, address: string): Promise<Session> {
    const account = body.email.toLowerCase();
    // Counted as failures up front, in one atomic step each, so every request of a parallel burst (on any
    // replica) sees the failures before it, those in flight included: none slips past the check.
    const [accountHits, addressHits] = await Promise.all([this.accountFailures.hit(account), this.addressFailures.hit(address)]);
    // Checked before any password work, the same way for known and unknown emails. Never a refusal of the
    // right password: whoever solves the challenge gets their password checked.
    const required = this.challengeBits(accountHits - 1, addressHits - 1);
    if (required > 0) {
      try {
        await this.challenges.redeem(account, body.proof, required);
      } catch (err) {
        // A refused proof is no guess at the password: it must not raise the bar (the web app's first try carries none).
        await Promise.all([this.accountFailures.undo(account), this.addressFailures.undo(address)]);
        throw err;
      }
    }
    const found = await this.store.findCredentials(account);
    // Always run scrypt, so an unknown email takes as long as a wrong password.
    const ok = await verifyPassword(body.password, found?.passwordHash ?? (await dummyPasswordHash()));
    if (!found || !ok) throw new AppError('INVALID_CREDENTIALS', INVALID_CREDENTIALS);
    await Promise.all([this.accountFailures.reset(account), this.addressFailures.undo(address)]);
    return this.issue(found.user, null);
  }

  /** Exchanges a refresh token for a new session; the old token is spent, and replaying a spent one ends its family. */
  async refresh(refreshToken: string, now = new Date()): Promise<Session> {
    const next = this.newRefreshToken(now);
    const rotation = await this.store.rotateRefreshToken(hashRefreshToken(refreshToken), next.record, now.toISOString());
    // A replayed token ended its family: the thief's and the victim's live sockets of it close too.
    if (rotation.outcome === 'reused') this.opts.live?.closeSockets({ userId: rotation.userId, sessionId: rotation.familyId });
    if (rotation.outcome !== 'rotated') throw new AppError('INVALID_REFRESH_TOKEN', INVALID_REFRESH);
    const user = await this.store.getUser(rotation.userId);
    if (!user) throw new AppError('INVALID_REFRESH_TOKEN', INVALID_REFRESH);
    return this.issue(user, { ...next, familyId: rotation.familyId }, now);
  }

  /** Ends the session the refresh token belongs to, live sockets included. Says nothing about whether it existed. */
  async logout(refreshToken: string, now = new Date()): Promise<void> {
    const ended = await this.store.revokeRefreshFamily(hashRefreshToken(refreshToken), now.toISOString());
    if (ended) this.opts.live?.closeSockets({ userId: ended.userId, sessionId: ended.familyId });
  }

  /**
   * Ends every session of the user and closes their live sockets; access tokens already issued lapse within
   * their (≤ 15 min) lifetime for plain requests, and can no longer open a socket.
   */
  async logoutEverywhere(userId: string, now = new Date()): Promise<number> {
    const revoked = await this.store.revokeUserRefreshTokens(userId, now.toISOString());
    this.opts.live?.closeSockets({ userId });
    return revoked;
  }

  /**
   * Creates the operator's admin account from config when it does not exist yet; admins never come from
   * sign-up. An existing account with that email that is not an admin is left alone (never promoted: whoever
   * signed it up knows its password) and reported, so the operator can choose another ADMIN_EMAIL.
   */
  async ensureAdmin(email: string, password: string, name = 'Administrator'): Promise<'created' | 'exists' | 'taken-by-non-admin'> {
    // The store matches emails case-insensitively (its contract), so the configured spelling finds the account.
    const existing = await this.store.findCredentials(email);
    if (existing) return existing.user.role === 'admin' ? 'exists' : 'taken-by-non-admin';
    try {
      await this.create(email, password, name, 'admin');
      return 'created';
    } catch (err) {
      if (err instanceof AppError && err.code === 'EMAIL_TAKEN') return this.ensureAdmin(email, password, name);
      throw err;
    }
  }

  /** A session with a new family (sign-in) or in the family `refresh` was rotated within. */
  private async issue(user: User, refresh: (ReturnType<Accounts['newRefreshToken']> & { familyId: string }) | null, now = new Date()): Promise<Session> {
    if (!refresh) {
      refresh = { ...this.newRefreshToken(now), familyId: newId('rtf_') };
      await this.store.saveRefreshToken({ ...refresh.record, userId: user.id, familyId: refresh.familyId });
    }
    const { token, expiresAt } = await this.keys.sign(user, this.opts.accessTtlSeconds, now, refresh.familyId);
    return { token, expiresAt, refreshToken: refresh.token, refreshExpiresAt: refresh.record.expiresAt, user };
  }

  private newRefreshToken(now: Date) {
    const token = randomBytes(32).toString('base64url');
    return {
      token,
      record: {
        hash: hashRefreshToken(token),
        createdAt: now.toISOString(),
        expiresAt: new Date(now.getTime() + this.opts.refreshTtlSeconds * 1000).toISOString(),
      },
    };
  }

  private async create(email: string, password: string, name: string, role: Role): Promise<User> {
    if (passwordIsEmail(password, email)) throw new AppError('VALIDATION_FAILED', 'body.password: must not be your email address');
    // The hash is computed before the insert either way, so a taken email answers no faster than a new one.
    // The store lower-cases the email it keeps (its contract).
    const user = await this.store.createUser({ email, name, role, passwordHash: await hashPassword(password) });
    if (!user) throw new AppError('EMAIL_TAKEN', 'An account with this email already exists. Sign in instead, or use another email.');
    return user;
  }
}
