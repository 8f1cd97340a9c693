import { decodeJwt } from 'jose';
import { AppError, type AuthUser, type TokenVerifier } from '@dems/kit';
import type { EngagementStore } from '../store/engagement-store.js';

/** An access token that verified and whose session is still signed in. */
export interface VerifiedSession {
  user: AuthUser;
  /** The refresh-token family the token was issued for (its `sid` claim). */
  sessionId: string;
  expiresAtMs: number;
}

export type SessionVerifier = (token: string) => Promise<VerifiedSession>;

const ENDED = 'This session has ended. Please sign in again.';

/**
 * Verifies an access token and checks its session in the store. Plain requests skip the store (ADR 003: a
 * revoked token lapses within 15 minutes), but a live socket would outlive that, so opening or renewing one
 * asks whether the session was signed out meanwhile. A token without `sid` predates sessions and is refused.
 */
export function sessionVerifier(verify: TokenVerifier, store: Pick<EngagementStore, 'isSessionActive'>): SessionVerifier {
  return async (token) => {
    const user = await verify(token);
    // Safe to read unverified now: verify() just checked this exact token's signature.
    const { sid, exp } = decodeJwt(token);
    if (typeof sid !== 'string' || typeof exp !== 'number') throw new AppError('UNAUTHENTICATED', ENDED);
    if (!(await store.isSessionActive(user.id, sid))) throw new AppError('UNAUTHENTICATED', ENDED);
    return { user, sessionId: sid, expiresAtMs: exp * 1000 };
  };
}
