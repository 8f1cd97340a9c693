import { z } from 'zod';
import { ErrorBody, LoginBody, Session, SignUpBody, User } from '@dems/contracts';
import { AppError, requireUser, type App } from '@dems/kit';
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
        response: { 201: User, 409: ErrorBody },
      },
    },
    async (req, reply) => reply.code(201).send(await deps.accounts.signUp(req.body)),
  );

  app.post(
    '/sessions',
    {
      schema: {
        tags: ['accounts'],
        summary: 'Sign in: exchange email and password for an access token',
        body: LoginBody,
        response: { 200: Session, 401: ErrorBody },
      },
    },
    async (req) => deps.accounts.login(req.body),
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
      const user = await deps.store.getUser(requireUser(req).id);
      if (!user) throw new AppError('UNAUTHENTICATED', 'This account no longer exists. Please sign in again.');
      return user;
    },
  );

  app.get(
    '/.well-known/jwks.json',
    { schema: { tags: ['accounts'], summary: 'Public keys that verify access tokens', response: { 200: Jwks } } },
    async (_req, reply) => {
      reply.header('cache-control', 'public, max-age=300');
      return deps.keys.jwks() as z.infer<typeof Jwks>;
    },
  );
}
