import { useCallback, useEffect, useState, type ReactNode } from 'react';
import { Link, useLocation } from 'react-router';
import { useMutationState } from '@tanstack/react-query';
import type { Event, WaitingRoom } from '@dems/contracts';
import { ErrorAlert } from '@/components/error-alert';
import { LineSkeletons } from '@/components/skeleton';
import { ApiError } from '@/lib/api-client';
import { useHasEnded } from '@/lib/clock';
import { formatDateTime, formatTime } from '@/lib/format';
import { isBusy, retryDelay } from '@/lib/retry-policy';
import { useSession } from '@/lib/session';
import { loadPlace, savePlace } from '@/features/waiting-room/api/queue-storage';
import { requestPass, serverOffsetMs, useJoinQueue, useServerNow, useWaitingRoom } from '@/features/waiting-room/api/waiting-room-api';
import { formatCountdown, formatWait, queueView, type QueuePlace } from '@/features/waiting-room/model';

/** Shortest pause before asking for the pass again when the server says "not yet" without saying how long. */
const NOT_YET_MIN_WAIT_MS = 500;

interface QueuedSaleProps {
  event: Event;
  /** The ticket list; given the pass to send with a purchase once this buyer is let in (undefined: no queue). */
  children: (queuePass: string | undefined) => ReactNode;
}

/**
 * The ticket card of an event whose sale may be queued. Without a waiting room it is just the ticket list; with
 * one, a buyer joins the queue, watches their place come up (counted each second from their admission time and
 * the live rate) and, when let in, gets a time-limited pass that the Buy button sends.
 */
export function QueuedSale({ event, children }: QueuedSaleProps) {
  const room = useWaitingRoom(event.id);
  const { user } = useSession();
  const ended = useHasEnded(event);
  // Cancelled or over: the ticket list says so; there is nothing to queue for.
  if (event.status === 'cancelled' || ended) return <>{children(undefined)}</>;
  if (room.isPending) return <LineSkeletons lines={2} label="Checking how tickets are sold…" />;
  // No room, or one we could not read: the ticket list as usual (ticketing enforces a queue it has, and says so).
  if (!room.data) return <>{children(undefined)}</>;
  return (
    // Keyed by user: a place belongs to whoever took it, so signing in as someone else starts afresh.
    <QueueCard key={user?.id ?? 'signed-out'} event={event} room={room.data} receivedAtMs={room.dataUpdatedAt}>
      {children}
    </QueueCard>
  );
}

function QueueCard({ event, room, receivedAtMs, children }: { event: Event; room: WaitingRoom; receivedAtMs: number; children: QueuedSaleProps['children'] }) {
  const { user } = useSession();
  const location = useLocation();
  const userId = user?.id ?? null;
  const now = useServerNow(serverOffsetMs(room, receivedAtMs));
  const [place, setPlace] = useState(() => loadPlace(event.id, userId));
  const keep = useCallback(
    (next: QueuePlace | null) => {
      savePlace(event.id, next);
      setPlace(next);
    },
    [event.id],
  );
  const join = useJoinQueue(event.id);
  const joinQueue = () => {
    if (!userId) return;
    keep(null);
    join.mutate(undefined, { onSuccess: (entry) => keep({ userId, entry }) });
  };

  const view = place ? queueView(place, room, now) : null;
  const passError = usePass(event.id, place, view?.kind === 'admitting', keep);
  usePassRefusal(place, keep);

  const opens = formatDateTime(room.opensAt, event.timezone);
  const header = (
    <p className="fw-semibold mb-2" data-testid="queued-sale">
      Queued sale — {Date.parse(room.opensAt) > now ? 'opens' : 'opened'} {opens}
    </p>
  );
  const joinButton = (label: string) => (
    <button type="button" className="btn btn-primary" onClick={joinQueue} disabled={join.isPending}>
      {join.isPending && <span className="spinner-border spinner-border-sm me-2" aria-hidden="true" />}
      {label}
    </button>
  );

  if (!userId) {
    return (
      <div>
        {header}
        <p className="text-secondary small">Buyers are let in a few at a time, in the order they join, so nobody has to race.</p>
        <Link className="btn btn-primary" to={`/signin?next=${encodeURIComponent(`${location.pathname}${location.search}`)}`}>
          Sign in to join the queue
        </Link>
      </div>
    );
  }
  if (room.soldOut && view?.kind !== 'admitted') {
    return (
      <div>
        {header}
        <div className="alert alert-secondary mb-0" role="status" data-testid="queue-sold-out">
          <strong>Sold out.</strong> Every ticket has been sold, so nobody more is being let in.
        </div>
      </div>
    );
  }
  if (!view) {
    return (
      <div>
        {header}
        <p className="text-secondary small">Buyers are let in a few at a time, in the order they join, so nobody has to race. Join now to keep your place.</p>
        {join.isError && <ErrorAlert className="py-2 small" error={join.error} />}
        {joinButton('Join the queue')}
      </div>
    );
  }
  if (view.kind === 'expired') {
    return (
      <div>
        {header}
        <div className="alert alert-warning" role="status" data-testid="queue-expired">
          <strong>Your time to buy ran out.</strong> Passes last {room.passMinutes} {room.passMinutes === 1 ? 'minute' : 'minutes'} so the next people in line get their turn. You
          can join the queue again.
        </div>
        {join.isError && <ErrorAlert className="py-2 small" error={join.error} />}
        {joinButton('Join the queue again')}
      </div>
    );
  }
  if (view.kind === 'admitted') {
    const minutes = Math.ceil(view.leftMs / 60_000);
    return (
      <div>
        <div className="alert alert-success py-2" data-testid="queue-admitted">
          <strong role="status">
            You’re in — you have {minutes} {minutes === 1 ? 'minute' : 'minutes'}
          </strong>
          <div className="small">
            Time left to buy:{' '}
            <span role="timer" aria-label="Time left to buy" className="fw-semibold font-monospace">
              {formatCountdown(view.leftMs)}
            </span>
          </div>
        </div>
        {children(view.pass)}
      </div>
    );
  }
  if (view.kind === 'admitting') {
    return (
      <div>
        {header}
        <p role="status" className="mb-2">
          <span className="spinner-border spinner-border-sm me-2" aria-hidden="true" />
          It’s your turn — getting your pass…
        </p>
        {passError !== null && (
          <ErrorAlert className="py-2 small" error={passError} onRetry={passError instanceof ApiError && passError.code === 'QUEUE_TOKEN_INVALID' ? joinQueue : undefined} />
        )}
      </div>
    );
  }
  const admittedSoFar = view.position - view.ahead;
  return (
    <div data-testid="queue-waiting">
      {header}
      <h3 className="h6 fw-bold mb-2">You’re in the queue</h3>
      <dl className="queue-figures row g-0 mb-2">
        <dt className="col-7 fw-normal text-secondary">Your place</dt>
        <dd className="col-5 mb-1 fw-semibold" data-testid="queue-position">
          #{view.position}
        </dd>
        <dt className="col-7 fw-normal text-secondary">People ahead of you</dt>
        <dd className="col-5 mb-1 fw-semibold" aria-live="polite" aria-atomic="true" data-testid="queue-ahead">
          {view.ahead}
        </dd>
        <dt className="col-7 fw-normal text-secondary">Estimated admission</dt>
        <dd className="col-5 mb-1 fw-semibold" data-testid="queue-estimate">
          {formatTime(new Date(view.admitAtMs).toISOString(), event.timezone)}
          <span className="d-block small fw-normal text-secondary">in {formatWait(view.admitAtMs - now)}</span>
        </dd>
      </dl>
      <div className="progress mb-2" role="progressbar" aria-label="Your way through the queue" aria-valuenow={admittedSoFar} aria-valuemin={0} aria-valuemax={view.position}>
        <div className="progress-bar" style={{ width: `${Math.round((admittedSoFar / view.position) * 100)}%` }} />
      </div>
      {view.beforeOpening && <p className="small mb-1">The sale opens {opens}. Everyone who joined before then is let in in the order they joined.</p>}
      <p className="small text-secondary mb-0">Keep this tab open — we’ll let you in automatically.</p>
    </div>
  );
}

/**
 * Once the buyer's admission time has come, asks for the pass: again after the server's Retry-After while it says
 * "not yet" (clocks differ a little), and again after a pause while it is busy. An expired window marks the place
 * spent; a token the server does not accept is forgotten, so joining again is offered.
 */
function usePass(eventId: string, place: QueuePlace | null, admitting: boolean, keep: (next: QueuePlace | null) => void): unknown {
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    if (!place || !admitting) return;
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let failures = 0;
    const ask = () => {
      requestPass(eventId, place.entry.token).then(
        (pass) => {
          if (stopped) return;
          setError(null);
          keep({ ...place, pass });
        },
        (err: unknown) => {
          if (stopped) return;
          if (err instanceof ApiError && err.code === 'NOT_ADMITTED_YET') {
            timer = setTimeout(ask, Math.max(NOT_YET_MIN_WAIT_MS, err.retryAfterMs ?? 0));
          } else if (err instanceof ApiError && err.code === 'QUEUE_PASS_EXPIRED') {
            keep({ ...place, spent: true });
          } else if (isBusy(err)) {
            timer = setTimeout(ask, retryDelay(++failures, err));
          } else {
            setError(err);
          }
        },
      );
    };
    ask();
    return () => {
      // A new round (another place, or admitting again) starts without the last round's error.
      setError(null);
      stopped = true;
      clearTimeout(timer);
    };
  }, [eventId, place, admitting, keep]);
  return error;
}

/** A purchase refused because this buyer's pass is no longer good (expired on the server's clock, revoked): the place is spent. */
function usePassRefusal(place: QueuePlace | null, keep: (next: QueuePlace | null) => void): void {
  const pass = place?.pass?.pass;
  const refused = useMutationState({
    filters: {
      status: 'error',
      predicate: (m) => {
        const sent = (m.state.variables as { queuePass?: string } | undefined)?.queuePass;
        return sent !== undefined && sent === pass && m.state.error instanceof ApiError && m.state.error.code === 'QUEUE_PASS_INVALID';
      },
    },
  }).length;
  useEffect(() => {
    if (refused > 0 && place && !place.spent) keep({ ...place, spent: true });
  }, [refused, place, keep]);
}
