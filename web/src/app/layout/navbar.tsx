import { useEffect, useRef, useState } from 'react';
import { Link, NavLink, useLocation, useNavigate } from 'react-router';
import { useQueryClient } from '@tanstack/react-query';
import { authPath, returnPathFrom } from '@/features/auth';
import { NotificationBell } from '@/features/notifications';
import { useMediaQuery, WIDE_SCREEN } from '@/lib/media-query';
import { useSession } from '@/lib/session';

const linkClass = ({ isActive }: { isActive: boolean }) => `nav-link${isActive ? ' active fw-semibold' : ''}`;

/** A menu entry, marked as the current page when its path is (`end`: only that path, not the ones below it). */
function NavItem({ to, end = false, children }: { to: string; end?: boolean; children: string }) {
  return (
    <li className="nav-item">
      <NavLink to={to} end={end} className={linkClass}>
        {children}
      </NavLink>
    </li>
  );
}

export function Navbar() {
  const { user, signOut } = useSession();
  const organizes = user?.role === 'organizer' || user?.role === 'admin';
  const { pathname, search } = useLocation();
  // Signing in or up from the navbar comes back to this page, as the sign-in page's own links do.
  const returnTo = returnPathFrom(pathname, search);
  // The menu stays open only on the page it was opened on: following a link closes it.
  const [openOn, setOpenOn] = useState<string | null>(null);
  const open = openOn === pathname;
  const menuButton = useRef<HTMLButtonElement>(null);
  // Escape closes the open phone menu, and focus goes back to the button that opened it.
  useEffect(() => {
    if (!open) return;
    const onKey = (e: KeyboardEvent) => {
      if (e.key !== 'Escape') return;
      setOpenOn(null);
      menuButton.current?.focus();
    };
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  }, [open]);
  // The bell is drawn where the eye finds it, and sits there in the page too, so Tab reaches it in that order:
  // beside the menu button on phones, after the last menu entry on wide screens.
  const wide = useMediaQuery(WIDE_SCREEN);
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const logOut = () => {
    signOut();
    // Nothing of the previous user's may linger in the cache for the next one.
    queryClient.clear();
    navigate('/');
  };

  return (
    <header>
      <nav className="navbar navbar-expand-lg app-navbar" aria-label="Main">
        <div className="container">
          <Link to="/" className="navbar-brand fw-bold d-flex align-items-center gap-2">
            <img src="/favicon.svg" alt="" width={28} height={28} />
            DEMS
          </Link>
          <div className="d-flex align-items-center gap-1 order-lg-last">
            {user && !wide && <NotificationBell />}
            <button
              ref={menuButton}
              className="navbar-toggler border-0"
              type="button"
              aria-controls="main-nav"
              aria-expanded={open}
              aria-label={open ? 'Close menu' : 'Open menu'}
              onClick={() => setOpenOn(open ? null : pathname)}
            >
              <span className="navbar-toggler-icon" />
            </button>
          </div>
          <div className={`collapse navbar-collapse${open ? ' show' : ''}`} id="main-nav">
            <ul className="navbar-nav me-auto">
              <NavItem to="/" end>
                Discover
              </NavItem>
              {user && <NavItem to="/tickets">My tickets</NavItem>}
              {user && <NavItem to="/registrations">Registrations</NavItem>}
              {organizes && (
                <NavItem to="/organizer" end>
                  My events
                </NavItem>
              )}
            </ul>
            <ul className="navbar-nav align-items-lg-center gap-lg-2">
              {organizes && (
                <li className="nav-item">
                  <Link to="/organizer/events/new" className="btn btn-primary btn-sm my-2 my-lg-0">
                    Create event
                  </Link>
                </li>
              )}
              {user ? (
                <>
                  <li className="nav-item navbar-text small" data-testid="signed-in-as">
                    Signed in as <strong>{user.name}</strong>
                  </li>
                  <li className="nav-item">
                    <button type="button" className="btn btn-outline-secondary btn-sm my-2 my-lg-0" onClick={logOut}>
                      Sign out
                    </button>
                  </li>
                  {wide && (
                    <li className="nav-item">
                      <NotificationBell />
                    </li>
                  )}
                </>
              ) : (
                <>
                  <NavItem to={authPath('/signin', returnTo)}>Sign in</NavItem>
                  <li className="nav-item">
                    <Link to={authPath('/signup', returnTo)} className="btn btn-primary btn-sm my-2 my-lg-0">
                      Sign up
                    </Link>
                  </li>
                </>
              )}
            </ul>
          </div>
        </div>
      </nav>
    </header>
  );
}
