import { useState } from 'react';
import { Link, Navigate, useNavigate, useSearchParams } from 'react-router';
import { SignUpBody } from '@dems/contracts';
import { ErrorAlert } from '@/components/error-alert';
import { Field } from '@/components/form-field';
import { useDocumentTitle } from '@/components/page-header';
import { ApiError } from '@/lib/api-client';
import { fieldErrors } from '@/lib/error-messages';
import { useSession } from '@/lib/session';
import { issuesByPath } from '@/lib/zod-errors';
import { useSignUp } from '@/features/auth/api/auth-api';
import { authPath, safeNext } from './safe-next';

const FRIENDLY: Record<string, string> = {
  name: 'Tell us your name.',
  email: 'Enter a valid email address.',
  password: 'Use at least 10 characters.',
};

export function SignUpPage() {
  useDocumentTitle('Sign up');
  const [params] = useSearchParams();
  const next = safeNext(params.get('next'));
  const navigate = useNavigate();
  const { user } = useSession();
  const signUp = useSignUp();
  const [form, setForm] = useState({ name: '', email: '', password: '', role: 'attendee' as 'attendee' | 'organizer' });
  const [errors, setErrors] = useState<Record<string, string>>({});
  const set = (key: keyof typeof form) => (e: React.ChangeEvent<HTMLInputElement>) => setForm((f) => ({ ...f, [key]: e.target.value }));

  if (user && !signUp.isSuccess) return <Navigate to={next} replace />;

  const submit = (e: React.FormEvent) => {
    e.preventDefault();
    const parsed = SignUpBody.safeParse(form);
    if (!parsed.success) {
      setErrors(
        issuesByPath(parsed.error, (issue, path) =>
          // The password's other rules (not only spaces, not the email) come from the shared schema, worded for people.
          path === 'password' && issue.code !== 'too_small' ? `Your password ${issue.message}.` : (FRIENDLY[path] ?? 'Please check this.'),
        ),
      );
      return;
    }
    setErrors({});
    signUp.mutate(parsed.data, {
      onSuccess: (session) => navigate(session.user.role === 'organizer' && next === '/' ? '/organizer' : next, { replace: true }),
      onError: (err) => {
        if (err instanceof ApiError && err.code === 'EMAIL_TAKEN') setErrors({ email: 'An account with this email already exists.' });
        else setErrors(fieldErrors(err));
      },
    });
  };

  return (
    <div className="auth-card mx-auto">
      <div className="bg-white rounded-4 shadow-sm p-4 p-md-5">
        <h1 className="h3 fw-bold mb-1">Create your account</h1>
        <p className="text-secondary mb-4">Buy tickets, RSVP, or publish your own events.</p>
        <form onSubmit={submit} noValidate>
          <Field label="Your name" error={errors.name}>
            <input type="text" autoComplete="name" value={form.name} onChange={set('name')} />
          </Field>
          <Field label="Email" error={errors.email}>
            <input type="email" autoComplete="email" value={form.email} onChange={set('email')} />
          </Field>
          <Field label="Password" error={errors.password} hint="At least 10 characters. A short sentence works well.">
            <input type="password" autoComplete="new-password" value={form.password} onChange={set('password')} />
          </Field>
          <fieldset className="mb-4">
            <legend className="form-label fw-medium fs-6">I want to</legend>
            <div className="d-flex flex-column flex-sm-row gap-2">
              {(
                [
                  ['attendee', 'Go to events'],
                  ['organizer', 'Organize events'],
                ] as const
              ).map(([role, label]) => (
                <div className="form-check role-option flex-fill" key={role}>
                  <input className="form-check-input" type="radio" name="role" id={`role-${role}`} value={role} checked={form.role === role} onChange={set('role')} />
                  <label className="form-check-label" htmlFor={`role-${role}`}>
                    {label}
                  </label>
                </div>
              ))}
            </div>
          </fieldset>
          {signUp.isError && !(signUp.error instanceof ApiError && signUp.error.code === 'EMAIL_TAKEN') && <ErrorAlert error={signUp.error} />}
          <button type="submit" className="btn btn-primary w-100 py-2" disabled={signUp.isPending}>
            {signUp.isPending && <span className="spinner-border spinner-border-sm me-2" aria-hidden="true" />}
            {signUp.checking ? 'Checking…' : 'Sign up'}
          </button>
        </form>
        <p className="text-center mt-4 mb-0">
          Already have an account? <Link to={authPath('/signin', next)}>Sign in</Link>
        </p>
      </div>
    </div>
  );
}
