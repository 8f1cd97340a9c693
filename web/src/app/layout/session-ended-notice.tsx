import { Link, useLocation } from 'react-router';
import { authPath, returnPathFrom } from '@/features/auth';
import { useSession } from '@/lib/session';

/**
 * Says why the person is suddenly signed out when the server ended their session (it expired, or was revoked
 * elsewhere), with a way to sign in again and come back to this page. The sign-in page says it in its own words.
 */
export function SessionEndedNotice() {
  const { expired, acknowledgeExpiry } = useSession();
  const { pathname, search } = useLocation();
  if (!expired || pathname === '/signin' || pathname === '/signup') return null;
  return (
    <div className="session-ended-notice py-2" role="alert" data-testid="session-ended">
      <div className="container d-flex flex-wrap align-items-center gap-2 small">
        <span className="flex-grow-1">Your session ended, so you have been signed out.</span>
        <Link to={authPath('/signin', returnPathFrom(pathname, search))} className="btn btn-sm btn-primary">
          Sign in again
        </Link>
        <button type="button" className="btn-close" aria-label="Dismiss" onClick={acknowledgeExpiry} />
      </div>
    </div>
  );
}
