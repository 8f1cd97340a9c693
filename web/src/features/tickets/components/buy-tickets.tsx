import { useId, useRef, useState } from 'react';
import { Link, useLocation } from 'react-router';
import { MAX_TICKETS_PER_ORDER, type Availability, type Event, type Order, type TicketType } from '@dems/contracts';
import { ErrorAlert } from '@/components/error-alert';
import { LineSkeletons } from '@/components/skeleton';
import { useHasEnded } from '@/lib/clock';
import { formatMoney } from '@/lib/format';
import { isNotOnSaleYet } from '@/lib/queries';
import { useSession } from '@/lib/session';
import { usePlaceOrder } from '@/features/tickets/api/tickets-api';

type Seats = Availability['ticketTypes'][number];

interface BuyTicketsProps {
  event: Event;
  availability: { data: Availability | undefined; isPending: boolean; error: unknown };
  /** Makes the key of a new checkout attempt; tests pass a predictable one. */
  newKey?: () => string;
  /** The waiting room's pass, sent with each purchase when the sale is queued. */
  queuePass?: string;
}

/** The ticket list of an event page: each type with its price, live seats left, a quantity and Buy. */
export function BuyTickets({ event, availability, newKey = () => crypto.randomUUID(), queuePass }: BuyTicketsProps) {
  const { user } = useSession();
  const location = useLocation();
  const ended = useHasEnded(event);
  if (event.status === 'cancelled') return <p className="text-secondary mb-0">Ticket sales have ended because the event was cancelled.</p>;
  if (ended) return <p className="text-secondary mb-0">This event is over.</p>;

  const notOnSaleYet = isNotOnSaleYet(availability.error);
  return (
    <div>
      {availability.isPending && !availability.error && <LineSkeletons lines={2} label="Checking how many tickets are left…" />}
      {notOnSaleYet && (
        <p className="text-secondary small" role="status">
          Tickets go on sale in a moment…
        </p>
      )}
      {availability.error !== null && availability.error !== undefined && !notOnSaleYet && <ErrorAlert error={availability.error} />}
      <ul className="list-unstyled mb-0 ticket-types">
        {event.ticketTypes.map((type) => (
          <TicketTypeRow
            key={type.id}
            event={event}
            type={type}
            seats={availability.data?.ticketTypes.find((t) => t.ticketTypeId === type.id)}
            signedIn={Boolean(user)}
            signInHref={`/signin?next=${encodeURIComponent(location.pathname)}`}
            newKey={newKey}
            queuePass={queuePass}
          />
        ))}
      </ul>
    </div>
  );
}

function TicketTypeRow({
  event,
  type,
  seats,
  signedIn,
  signInHref,
  newKey,
  queuePass,
}: {
  event: Event;
  type: TicketType;
  seats: Seats | undefined;
  signedIn: boolean;
  signInHref: string;
  newKey: () => string;
  queuePass?: string;
}) {
  const [wanted, setWanted] = useState(1);
  const [bought, setBought] = useState<Order | null>(null);
  const order = usePlaceOrder();
  // One key per checkout attempt: kept across retries and double clicks, replaced after a success or when
  // the quantity changes (a different purchase must not replay the first one).
  const attempt = useRef<{ key: string; quantity: number } | null>(null);
  const inFlight = useRef(false);
  const qtyId = useId();

  const remaining = seats?.remaining;
  const soldOut = remaining !== undefined && remaining <= 0;
  const maxQty = Math.max(1, Math.min(MAX_TICKETS_PER_ORDER, remaining ?? MAX_TICKETS_PER_ORDER));
  // What the buyer picked may be more than is left by now (others bought meanwhile): the pick is lowered to
  // what is left, once and for good (seats coming back must not raise a total the buyer already saw drop),
  // and the list, the button's total and the purchase all use this one number.
  const [loweredAt, setLoweredAt] = useState<number | null>(null);
  if (wanted > maxQty && remaining !== undefined && !soldOut) {
    setWanted(maxQty);
    setLoweredAt(remaining);
  }
  const quantity = Math.min(wanted, maxQty);

  const buy = () => {
    if (inFlight.current) return;
    inFlight.current = true;
    if (attempt.current?.quantity !== quantity) attempt.current = { key: newKey(), quantity };
    setBought(null);
    order.mutate(
      { eventId: event.id, ticketTypeId: type.id, quantity, idempotencyKey: attempt.current.key, queuePass },
      {
        onSuccess: (placed) => {
          attempt.current = null;
          setBought(placed);
          setWanted(1);
          setLoweredAt(null);
        },
        onSettled: () => {
          inFlight.current = false;
        },
      },
    );
  };

  return (
    <li className="ticket-type py-3" data-testid={`ticket-type-${type.name}`}>
      <div className="d-flex justify-content-between align-items-start gap-2">
        <div>
          <h3 className="h6 fw-semibold mb-1">{type.name}</h3>
          <div className="fw-bold">{formatMoney(type.priceCents, type.currency)}</div>
        </div>
        <div aria-live="polite">
          {remaining === undefined ? null : soldOut ? (
            <span className="badge text-bg-dark">Sold out</span>
          ) : (
            <span className={`badge ${remaining <= 10 ? 'badge-hot' : 'badge-soft'}`} data-testid="remaining">
              {remaining} left
            </span>
          )}
        </div>
      </div>
      {soldOut ? (
        <p className="text-secondary small mt-2 mb-0">Sorry — {type.name} tickets are sold out.</p>
      ) : !signedIn ? (
        <Link className="btn btn-outline-primary btn-sm mt-2" to={signInHref}>
          Sign in to buy
        </Link>
      ) : (
        <div className="d-flex align-items-end gap-2 mt-2">
          <div>
            <label className="form-label small mb-1" htmlFor={qtyId}>
              Quantity
              <span className="visually-hidden"> of {type.name} tickets</span>
            </label>
            <select
              id={qtyId}
              className="form-select form-select-sm"
              value={quantity}
              disabled={order.isPending}
              onChange={(e) => {
                setWanted(Number(e.target.value));
                setLoweredAt(null);
                attempt.current = null;
                order.reset();
              }}
            >
              {Array.from({ length: maxQty }, (_, i) => i + 1).map((n) => (
                <option key={n} value={n}>
                  {n}
                </option>
              ))}
            </select>
          </div>
          <button type="button" className="btn btn-primary btn-sm px-3" onClick={buy} disabled={order.isPending || remaining === undefined}>
            {order.isPending && <span className="spinner-border spinner-border-sm me-1" aria-hidden="true" />}
            {order.isPending ? (order.failureCount > 0 ? 'Busy — still trying…' : 'Buying…') : `Buy · ${formatMoney(type.priceCents * quantity, type.currency)}`}
            <span className="visually-hidden"> {type.name} tickets</span>
          </button>
        </div>
      )}
      {loweredAt !== null && signedIn && !soldOut && (
        <p className="small text-body-secondary mt-2 mb-0" role="status" data-testid="quantity-lowered">
          Only {loweredAt} left now, so the quantity was lowered to {quantity}.
        </p>
      )}
      {order.isError && <ErrorAlert className="mt-2 mb-0 py-2 small" error={order.error} context={{ remaining }} />}
      {bought && (
        <div className="alert alert-success mt-2 mb-0 py-2 small" role="status">
          You’re going! {bought.quantity} {bought.quantity === 1 ? 'ticket' : 'tickets'} confirmed. <Link to="/tickets">See my tickets</Link>
        </div>
      )}
    </li>
  );
}
