import { useState } from 'react';
import { Link, NavLink, useLocation, useNavigate } from 'react-router';
import { useQueryClient } from '@tanstack/react-query';
import { NotificationBell } from '@/features/notifications';
import { useSession } from '@/lib/session';

const linkClass = ({ isActive }: { isActive: boolean }) => `nav-link${isActive ? ' active fw-semibold' : ''}`;

export function Navbar() {
  const { user, signOut } = useSession();
  const { pathname } = useLocation();
  // The menu stays open only on the page it was opened on: following a link closes it.
  const [openOn, setOpenOn] = useState<string | null>(null);
  const open = openOn === pathname;
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
            {user && <NotificationBell />}
            <button
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
              <li className="nav-item">
                <NavLink to="/" end className={linkClass}>
                  Discover
                </NavLink>
              </li>
              {user && (
                <>
                  <li className="nav-item">
                    <NavLink to="/tickets" className={linkClass}>
                      My tickets
                    </NavLink>
                  </li>
                  <li className="nav-item">
                    <NavLink to="/registrations" className={linkClass}>
                      Registrations
                    </NavLink>
                  </li>
                </>
              )}
              {(user?.role === 'organizer' || user?.role === 'admin') && (
                <li className="nav-item">
                  <NavLink to="/organizer" end className={linkClass}>
                    My events
                  </NavLink>
                </li>
              )}
            </ul>
            <ul className="navbar-nav align-items-lg-center gap-lg-2">
              {(user?.role === 'organizer' || user?.role === 'admin') && (
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
                </>
              ) : (
                <>
                  <li className="nav-item">
                    <NavLink to="/signin" className={linkClass}>
                      Sign in
                    </NavLink>
                  </li>
                  <li className="nav-item">
                    <Link to="/signup" className="btn btn-primary btn-sm my-2 my-lg-0">
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
