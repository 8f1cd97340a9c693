import { useMutation } from '@tanstack/react-query';
import type { LoginBody, Session, SignUpBody, User } from '@dems/contracts';
import type { z } from 'zod';
import { apiRequest } from '../../../lib/api-client';
import { useSession } from '../../../lib/session';

export function useLogin() {
  const { signIn } = useSession();
  return useMutation({
    mutationFn: (body: z.input<typeof LoginBody>) => apiRequest<Session>('/sessions', { method: 'POST', body }),
    onSuccess: signIn,
  });
}

/** Creates the account, then signs in with it, so a new user lands signed in. */
export function useSignUp() {
  const { signIn } = useSession();
  return useMutation({
    mutationFn: async (body: SignUpBody) => {
      await apiRequest<User>('/users', { method: 'POST', body });
      return apiRequest<Session>('/sessions', { method: 'POST', body: { email: body.email, password: body.password } });
    },
    onSuccess: signIn,
  });
}
