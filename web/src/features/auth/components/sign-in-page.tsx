import { useState } from 'react';
import { Link, Navigate, useNavigate, useSearchParams } from 'react-router';
import { SignInBody } from '@dems/contracts';
import { ErrorAlert } from '@/components/error-alert';
import { Field } from '@/components/form-field';
import { useDocumentTitle } from '@/components/page-header';
import { useSession } from '@/lib/session';
import { issuesByPath } from '@/lib/zod-errors';
import { useSignIn } from '@/features/auth/api/auth-api';
import { authPath, safeNext } from './safe-next';

export function SignInPage() {
  useDocumentTitle('Sign in');
  const [params] = useSearchParams();
  const next = safeNext(params.get('next'));
  const navigate = useNavigate();
  const { user, expired } = useSession();
  const signIn = useSignIn();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [errors, setErrors] = useState<Record<string, string>>({});

  if (user && !signIn.isSuccess) return <Navigate to={next} replace />;

  const submit = (e: React.FormEvent) => {
    e.preventDefault();
    const parsed = SignInBody.safeParse({ email, password });
    if (!parsed.success) {
      setErrors(issuesByPath(parsed.error, (_i, path) => (path === 'email' ? 'Enter your email address.' : 'Enter your password.')));
      return;
    }
    setErrors({});
    signIn.mutate(parsed.data, { onSuccess: () => navigate(next, { replace: true }) });
  };

  return (
    <div className="auth-card mx-auto">
      <div className="bg-white rounded-4 shadow-sm p-4 p-md-5">
        <h1 className="h3 fw-bold mb-1">Welcome back</h1>
        <p className="text-secondary mb-4">Sign in to buy tickets and see your notifications.</p>
        {expired ? (
          <div className="alert alert-warning py-2" role="status" data-testid="session-ended">
            Your session ended, so you have been signed out. Sign in again{next === '/' ? '' : ' to go back to where you were'}.
          </div>
        ) : (
          params.get('next') && (
            <div className="alert alert-info py-2" role="status">
              Please sign in to continue.
            </div>
          )
        )}
        <form onSubmit={submit} noValidate>
          <Field label="Email" error={errors.email}>
            <input type="email" autoComplete="email" value={email} onChange={(e) => setEmail(e.target.value)} />
          </Field>
          <Field label="Password" error={errors.password}>
            <input type="password" autoComplete="current-password" value={password} onChange={(e) => setPassword(e.target.value)} />
          </Field>
          {signIn.isError && <ErrorAlert error={signIn.error} />}
          {signIn.checking && (
            <div className="alert alert-secondary py-2" role="status">
              There were several failed sign-ins here recently, so we are running a quick security check. This takes a few seconds at most.
            </div>
          )}
          <button type="submit" className="btn btn-primary w-100 py-2" disabled={signIn.isPending}>
            {signIn.isPending && <span className="spinner-border spinner-border-sm me-2" aria-hidden="true" />}
            {signIn.checking ? 'Checking…' : 'Sign in'}
          </button>
        </form>
        <p className="text-center mt-4 mb-0">
          New here? <Link to={authPath('/signup', next)}>Create an account</Link>
        </p>
      </div>
    </div>
  );
}
