import { Link, useLocation } from 'react-router';
import type { Event } from '@dems/contracts';
import { ErrorAlert } from '@/components/error-alert';
import { Spinner } from '@/components/spinner';
import { sellsPaidTickets } from '@/lib/admission';
import { useHasEnded } from '@/lib/clock';
import { useSession } from '@/lib/session';
import { useMyRegistration, useRegister, useWithdraw } from '@/features/registrations/api/registrations-api';

/**
 * The words of the card, by what an RSVP means at this event: on a free event it is a free place, as a free
 * ticket is; next to paid tickets it is interest only, and the card says plainly that it does not get anyone in.
 */
const WORDS = {
  free: {
    invite: 'Entry is free. Let the organizer know you’re coming.',
    done: 'You’re registered for this event.',
    full: 'Registration is full.',
    signIn: 'Sign in to register',
    join: 'Register',
    leave: 'Withdraw registration',
  },
  paid: {
    invite: 'An RSVP is not a ticket and does not get you in. It tells the organizer you’re interested and keeps you posted about changes. To attend, buy a ticket.',
    done: 'You’ve RSVP’d as interested. This is not a ticket: to attend, buy one.',
    full: 'The RSVP list is full. You can still buy a ticket.',
    signIn: 'Sign in to RSVP',
    join: 'RSVP as interested',
    leave: 'Withdraw RSVP',
  },
};

/** Register / Withdraw for the RSVP of one event. */
export function RsvpCard({ event }: { event: Event }) {
  const { user } = useSession();
  const location = useLocation();
  const mine = useMyRegistration(event.id);
  const register = useRegister(event.id);
  const withdraw = useWithdraw(event.id);
  const ended = useHasEnded(event);
  const words = sellsPaidTickets(event) ? WORDS.paid : WORDS.free;

  if (!user) {
    return (
      <>
        <p className="text-secondary">{words.invite}</p>
        <Link className="btn btn-outline-primary" to={`/signin?next=${encodeURIComponent(location.pathname)}`}>
          {words.signIn}
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
          {words.done}
        </p>
      ) : (
        <p className="text-secondary">{full ? words.full : words.invite}</p>
      )}
      {!closed &&
        (registered ? (
          <button type="button" className="btn btn-outline-secondary" disabled={busy} onClick={() => withdraw.mutate()}>
            {withdraw.isPending && <span className="spinner-border spinner-border-sm me-2" aria-hidden="true" />}
            {words.leave}
          </button>
        ) : (
          <button type="button" className="btn btn-primary" disabled={busy || full} onClick={() => register.mutate()}>
            {register.isPending && <span className="spinner-border spinner-border-sm me-2" aria-hidden="true" />}
            {words.join}
          </button>
        ))}
      {register.isError && <ErrorAlert className="mt-3 mb-0" error={register.error} />}
      {withdraw.isError && <ErrorAlert className="mt-3 mb-0" error={withdraw.error} />}
    </>
  );
}
