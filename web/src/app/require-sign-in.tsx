import { Link, Navigate, Outlet, useLocation } from 'react-router';
import type { Role } from '@dems/contracts';
import { useSession } from '@/lib/session';

/** Sends a signed-out visitor to sign in and, afterwards, back to the page they asked for. */
export function RequireSignIn({ role }: { role?: Role }) {
  const { user } = useSession();
  const location = useLocation();
  if (!user) {
    const next = `${location.pathname}${location.search}`;
    return <Navigate to={`/signin?next=${encodeURIComponent(next)}`} replace />;
  }
  if (role && user.role !== role && user.role !== 'admin') {
    return (
      <div className="bg-white rounded-4 shadow-sm p-5 text-center">
        <h1 className="h3 fw-bold">This page is for organizers</h1>
        <p className="text-secondary">You are signed in as an attendee. Create an organizer account to publish events.</p>
        <Link to="/" className="btn btn-primary">
          Back to events
        </Link>
      </div>
    );
  }
  return <Outlet />;
}

/** The sign-in page was once /login: links to it (bookmarks, a `next` included) still arrive at /signin. */
export function SignInMoved() {
  const { search } = useLocation();
  return <Navigate to={`/signin${search}`} replace />;
}
