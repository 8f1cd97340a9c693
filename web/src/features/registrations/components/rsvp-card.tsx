import { Link, useLocation } from 'react-router';
import type { Event } from '@dems/contracts';
import { ErrorAlert } from '@/components/error-alert';
import { Spinner } from '@/components/spinner';
import { useHasEnded } from '@/lib/clock';
import { useSession } from '@/lib/session';
import { useMyRegistration, useRegister, useWithdraw } from '@/features/registrations/api/registrations-api';

/** Register / Withdraw for the free RSVP of one event. */
export function RsvpCard({ event }: { event: Event }) {
  const { user } = useSession();
  const location = useLocation();
  const mine = useMyRegistration(event.id);
  const register = useRegister(event.id);
  const withdraw = useWithdraw(event.id);
  const ended = useHasEnded(event);

  if (!user) {
    return (
      <>
        <p className="text-secondary">Let the organizer know you’re coming — it’s free.</p>
        <Link className="btn btn-outline-primary" to={`/signin?next=${encodeURIComponent(location.pathname)}`}>
          Sign in to register
        </Link>
      </>
    );
  }
  if (mine.isPending) return <Spinner small label="Checking your registration…" />;
  if (mine.isError) return <ErrorAlert error={mine.error} onRetry={() => void mine.refetch()} />;

  const registered = mine.data !== null;
  const full = event.registrationLimit !== null && event.registrationCount >= event.registrationLimit;
  const closed = event.status === 'cancelled' || ended;
  const busy = register.isPending || withdraw.isPending;
  return (
    <>
      {registered ? (
        <p className="text-success-emphasis fw-semibold" role="status">
          You’re registered for this event.
        </p>
      ) : (
        <p className="text-secondary">{full ? 'Registration is full.' : 'Let the organizer know you’re coming — it’s free.'}</p>
      )}
      {!closed &&
        (registered ? (
          <button type="button" className="btn btn-outline-secondary" disabled={busy} onClick={() => withdraw.mutate()}>
            {withdraw.isPending && <span className="spinner-border spinner-border-sm me-2" aria-hidden="true" />}
            Withdraw registration
          </button>
        ) : (
          <button type="button" className="btn btn-primary" disabled={busy || full} onClick={() => register.mutate()}>
            {register.isPending && <span className="spinner-border spinner-border-sm me-2" aria-hidden="true" />}
            Register
          </button>
        ))}
      {register.isError && <ErrorAlert className="mt-3 mb-0" error={register.error} />}
      {withdraw.isError && <ErrorAlert className="mt-3 mb-0" error={withdraw.error} />}
    </>
  );
}
