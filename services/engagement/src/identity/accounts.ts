import type { LoginBody, Role, Session, SignUpBody, User } from '@dems/contracts';
import { AppError } from '@dems/kit';
import type { z } from 'zod';
import type { EngagementStore } from '../store/engagement-store.js';
import { dummyPasswordHash, hashPassword, verifyPassword } from './passwords.js';
import type { SigningKeys } from './signing-keys.js';

const INVALID_CREDENTIALS = 'The email or password is incorrect.';

/** Sign-up, sign-in and the bootstrap admin: the identity rules, over the store port and the signing keys. */
export class Accounts {
  constructor(
    private readonly store: EngagementStore,
    private readonly keys: SigningKeys,
    private readonly tokenTtlSeconds: number,
  ) {
    // Computed up front so even the first unknown-email login costs exactly one scrypt run.
    void dummyPasswordHash();
  }

  async signUp(body: SignUpBody): Promise<User> {
    return this.create(body.email, body.password, body.name, body.role);
  }

  async login(body: z.infer<typeof LoginBody>): Promise<Session> {
    const found = await this.store.findCredentials(body.email);
    // Always run scrypt, so an unknown email takes as long as a wrong password.
    const ok = await verifyPassword(body.password, found?.passwordHash ?? (await dummyPasswordHash()));
    if (!found || !ok) throw new AppError('INVALID_CREDENTIALS', INVALID_CREDENTIALS);
    const { token, expiresAt } = await this.keys.sign(found.user, this.tokenTtlSeconds);
    return { token, expiresAt, user: found.user };
  }

  /** Creates the operator's admin account from config when it does not exist yet; admins never come from sign-up. */
  async ensureAdmin(email: string, password: string, name = 'Administrator'): Promise<'created' | 'exists'> {
    if (await this.store.findCredentials(email)) return 'exists';
    try {
      await this.create(email, password, name, 'admin');
      return 'created';
    } catch (err) {
      if (err instanceof AppError && err.code === 'EMAIL_TAKEN') return 'exists';
      throw err;
    }
  }

  private async create(email: string, password: string, name: string, role: Role): Promise<User> {
    const user = await this.store.createUser({ email: email.toLowerCase(), name, role, passwordHash: await hashPassword(password) });
    if (!user) throw new AppError('EMAIL_TAKEN', 'An account with this email already exists. Sign in instead, or use another email.');
    return user;
  }
}
