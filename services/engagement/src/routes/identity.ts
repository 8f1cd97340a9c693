import { z } from 'zod';
import { ErrorBody, SignInBody, SignInChallenge, SignInChallengeBody, LogoutBody, LogoutEverywhereResult, Ok, RefreshBody, Session, SignUpBody, User } from '@dems/contracts';
import { AppError, requireSignedIn, type App } from '@dems/kit';
import type { Accounts } from '../identity/accounts.js';
import type { SigningKeys } from '../identity/signing-keys.js';
import type { EngagementStore } from '../store/engagement-store.js';

const Jwks = z.object({ keys: z.array(z.record(z.string(), z.unknown())) });

export function identityRoutes(app: App, deps: { accounts: Accounts; store: EngagementStore; keys: SigningKeys }): void {
  app.post(
    '/users',
    {
      schema: {
        tags: ['accounts'],
        summary: 'Create an account (attendee or organizer)',
        body: SignUpBody,
        response: { 201: User, 400: ErrorBody, 409: ErrorBody, 429: ErrorBody },
      },
    },
    async (req, reply) => reply.code(201).send(await deps.accounts.signUp(req.body, req.ip)),
  );

  app.post(
    '/sessions',
    {
      schema: {
        tags: ['accounts'],
        summary: 'Sign in: exchange email and password for an access token and a refresh token',
        description:
          'After repeated failures for one account or from one address, sign-in answers 428 CHALLENGE_REQUIRED until it is sent with `proof`: ' +
          'a challenge from POST /sessions/challenge and an answer that solves it. The right password with a valid proof always signs in.',
        body: SignInBody,
        response: { 200: Session, 401: ErrorBody, 428: ErrorBody },
      },
    },
    async (req) => deps.accounts.signIn(req.body, req.ip),
  );

  app.post(
    '/sessions/challenge',
    {
      schema: {
        tags: ['accounts'],
        summary: 'A proof-of-work challenge for signing in to this email after repeated failures',
        description:
          'Find an `answer` such that SHA-256(`challenge:answer`) starts with `difficulty` zero bits and send both as `proof` with POST /sessions. ' +
          'Each challenge is bound to the email, works once, and expires after 5 minutes. Difficulty 0: no proof is needed right now.',
        body: SignInChallengeBody,
        response: { 200: SignInChallenge },
      },
    },
    async (req) => deps.accounts.challenge(req.body.email, req.ip),
  );

  app.post(
    '/sessions/refresh',
    {
      schema: {
        tags: ['accounts'],
        summary: 'Exchange a refresh token for a new access token and a new refresh token',
        description: 'Each refresh token works once. Presenting one that was already used ends that whole session (every token descended from its sign-in).',
        body: RefreshBody,
        response: { 200: Session, 401: ErrorBody },
      },
    },
    async (req) => deps.accounts.refresh(req.body.refreshToken),
  );

  app.post(
    '/sessions/logout',
    {
      schema: {
        tags: ['accounts'],
        summary: 'Sign out: the refresh token (and every token of its session) stops working',
        body: LogoutBody,
        response: { 200: Ok },
      },
    },
    async (req) => {
      await deps.accounts.logout(req.body.refreshToken);
      return { ok: true as const };
    },
  );

  app.post(
    '/sessions/logout-everywhere',
    {
      schema: {
        tags: ['accounts'],
        summary: 'Sign out everywhere: every refresh token of the caller stops working',
        description: 'Live sockets of every session close at once; access tokens already issued stay valid for plain requests until they expire (at most 15 minutes).',
        security: [{ bearer: [] }],
        response: { 200: LogoutEverywhereResult, 401: ErrorBody },
      },
    },
    async (req) => ({ ok: true as const, revoked: await deps.accounts.logoutEverywhere(requireSignedIn(req).id) }),
  );

  app.get(
    '/me',
    {
      schema: {
        tags: ['accounts'],
        summary: 'The signed-in user',
        security: [{ bearer: [] }],
        response: { 200: User, 401: ErrorBody },
      },
    },
    async (req) => {
      const user = await deps.store.getUser(requireSignedIn(req).id);
      if (!user) throw new AppError('UNAUTHENTICATED', 'This account no longer exists. Please sign in again.');
      return user;
    },
  );

  app.get('/.well-known/jwks.json', { schema: { tags: ['accounts'], summary: 'Public keys that verify access tokens', response: { 200: Jwks } } }, async (_req, reply) => {
    reply.header('cache-control', 'public, max-age=300');
    return deps.keys.jwks() as z.infer<typeof Jwks>;
  });
}
