import { Suspense, useEffect } from 'react';
import { Outlet, useLocation } from 'react-router';
import { Spinner } from '@/components/spinner';
import { ToastViewport } from '@/components/toasts';
import { LiveToasts } from '@/features/notifications';
import { BusyBanner } from './busy-banner';
import { ConnectionBanner } from './connection-banner';
import { Navbar } from './navbar';
import { SessionEndedNotice } from './session-ended-notice';

export function AppLayout() {
  const { pathname } = useLocation();
  // A new page starts at its top, as a full page load would. (Block body: newer Chromium returns a
  // Promise from scrollTo, and an effect must return nothing or a cleanup function.)
  useEffect(() => {
    window.scrollTo?.(0, 0);
  }, [pathname]);
  return (
    <div className="d-flex flex-column min-vh-100">
      <a href="#main" className="visually-hidden-focusable skip-link">
        Skip to main content
      </a>
      <Navbar />
      <SessionEndedNotice />
      <ConnectionBanner />
      <BusyBanner />
      <main id="main" className="flex-grow-1 container py-4" tabIndex={-1}>
        <Suspense fallback={<Spinner label="Loading the page…" />}>
          <Outlet />
        </Suspense>
      </main>
      <footer className="app-footer py-4 mt-4">
        <div className="container d-flex flex-wrap justify-content-between gap-2 small">
          <span>© DEMS — events, tickets and RSVPs</span>
          <span>Times are shown in each event’s own time zone.</span>
        </div>
      </footer>
      <LiveToasts />
      <ToastViewport />
    </div>
  );
}
