import { useState } from 'react';
import { useMutation } from '@tanstack/react-query';
import type { SignInBody, SignInChallenge, Session, SignUpBody, User } from '@dems/contracts';
import type { z } from 'zod';
import { ApiError, apiRequest } from '@/lib/api-client';
import { useSession } from '@/lib/session';
import { solveChallenge } from './proof-of-work';

type Credentials = Omit<z.input<typeof SignInBody>, 'proof'>;

/** A new challenge can be needed when failures raised the bar meanwhile; the bar has a cap, so this ends. */
const MAX_CHALLENGE_ROUNDS = 3;

/**
 * Signs in; after repeated failed sign-ins the server asks for a solved challenge (428 CHALLENGE_REQUIRED),
 * which is fetched and solved here, with `onChecking` true meanwhile so the form can say so.
 */
async function signInWithCheck(credentials: Credentials, onChecking: (checking: boolean) => void): Promise<Session> {
  let body: z.input<typeof SignInBody> = credentials;
  for (let round = 0; ; round++) {
    try {
      return await apiRequest<Session>('/sessions', { method: 'POST', body });
    } catch (err) {
      if (!(err instanceof ApiError && err.code === 'CHALLENGE_REQUIRED') || round >= MAX_CHALLENGE_ROUNDS) throw err;
    }
    onChecking(true);
    try {
      const { challenge, difficulty } = await apiRequest<SignInChallenge>('/sessions/challenge', { method: 'POST', body: { email: credentials.email } });
      body = { ...credentials, proof: { challenge, answer: await solveChallenge(challenge, difficulty) } };
    } finally {
      onChecking(false);
    }
  }
}

export function useSignIn() {
  const { signIn } = useSession();
  const [checking, setChecking] = useState(false);
  const mutation = useMutation({
    mutationFn: (body: Credentials) => signInWithCheck(body, setChecking),
    onSuccess: signIn,
  });
  return { ...mutation, checking };
}

/** Creates the account, then signs in with it, so a new user lands signed in. */
export function useSignUp() {
  const { signIn } = useSession();
  const [checking, setChecking] = useState(false);
  const mutation = useMutation({
    mutationFn: async (body: SignUpBody) => {
      await apiRequest<User>('/users', { method: 'POST', body });
      return signInWithCheck({ email: body.email, password: body.password }, setChecking);
    },
    onSuccess: signIn,
  });
  return { ...mutation, checking };
}
