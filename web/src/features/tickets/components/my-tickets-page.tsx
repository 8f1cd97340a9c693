import { useState } from 'react';
import { Link } from 'react-router';
import type { Ticket } from '@dems/contracts';
import { ConfirmDialog } from '@/components/confirm-dialog';
import { ErrorAlert } from '@/components/error-alert';
import { EmptyState, PageHeader } from '@/components/page-header';
import { ListStates } from '@/components/query-states';
import { ShowMore } from '@/components/show-more';
import { useToast } from '@/components/toasts';
import { formatEventTime, formatMoney } from '@/lib/format';
import { useCancelTicket, useTickets } from '@/features/tickets/api/tickets-api';
import { groupTicketsByEvent, type TicketGroup } from './group-tickets';
import { TicketQr } from './ticket-qr';

export function MyTicketsPage() {
  const tickets = useTickets();
  const [toCancel, setToCancel] = useState<Ticket | null>(null);
  const cancel = useCancelTicket();
  const toast = useToast();
  // Grouped over every page loaded so far: a later page may add tickets to an event shown already.
  const groups = tickets.data ? groupTicketsByEvent(tickets.data.pages.flatMap((p) => p.items)) : [];

  return (
    <>
      <PageHeader title="My tickets" subtitle="Show the QR code at the door. Each code lets one person in." />
      <ListStates
        list={tickets}
        count={groups.length}
        loading={{ lines: 5, label: 'Loading your tickets…' }}
        empty={
          <EmptyState title="You have no tickets yet">
            <Link to="/">Find an event</Link> and your tickets will appear here.
          </EmptyState>
        }
      >
        {groups.map((g) => (
          <TicketGroupSection key={g.eventId} group={g} onCancel={setToCancel} />
        ))}
        <ShowMore list={tickets} label="Show more tickets" loading="Loading more tickets…" className="text-center mb-4" />
      </ListStates>
      <ConfirmDialog
        open={toCancel !== null}
        title="Cancel this ticket?"
        confirmLabel="Cancel ticket"
        cancelLabel="Keep ticket"
        danger
        pending={cancel.isPending}
        onCancel={() => {
          setToCancel(null);
          cancel.reset();
        }}
        onConfirm={() => {
          if (!toCancel) return;
          cancel.mutate(toCancel.id, {
            onSuccess: (t) => {
              setToCancel(null);
              toast({ title: 'Ticket cancelled', body: `${formatMoney(t.priceCents, t.currency)} will be refunded.`, tone: 'success' });
            },
          });
        }}
      >
        {toCancel && (
          <p className="mb-0">
            Your {toCancel.ticketTypeName} ticket for <strong>{toCancel.eventTitle}</strong> will stop working and{' '}
            {toCancel.priceCents > 0 ? `${formatMoney(toCancel.priceCents, toCancel.currency)} will be refunded` : 'the seat goes back on sale'}. This cannot be undone.
          </p>
        )}
        {cancel.isError && <ErrorAlert className="mt-3 mb-0" error={cancel.error} />}
      </ConfirmDialog>
    </>
  );
}

function TicketGroupSection({ group, onCancel }: { group: TicketGroup; onCancel: (t: Ticket) => void }) {
  return (
    <section className="ticket-group bg-white rounded-4 shadow-sm p-3 p-md-4 mb-4" aria-labelledby={`group-${group.eventId}`} data-testid="ticket-group">
      <div className="d-flex flex-wrap justify-content-between align-items-start gap-2 mb-3">
        <div>
          <h2 className="h4 fw-bold mb-1" id={`group-${group.eventId}`}>
            <Link to={`/events/${group.eventId}`} className="text-reset">
              {group.eventTitle}
            </Link>
          </h2>
          <p className="text-secondary mb-0">
            <span data-testid="event-time">{formatEventTime({ startsAt: group.eventStartsAt, endsAt: group.eventEndsAt, timezone: group.eventTimezone })}</span>
            {group.eventVenue ? ` · ${group.eventVenue}` : ''}
          </p>
        </div>
        <span className={`badge ${group.validCount > 0 ? 'text-bg-success' : 'text-bg-secondary'}`}>
          {group.validCount} of {group.tickets.length} valid
        </span>
      </div>
      {group.eventCancelled && (
        <div className="alert alert-danger py-2" role="status">
          This event was cancelled; its tickets have been refunded.
        </div>
      )}
      <ul className="row g-3 list-unstyled mb-0">
        {group.tickets.map((t) => (
          <li key={t.id} className="col-12 col-md-6 col-xl-4">
            <div className={`ticket-stub h-100 ${t.status === 'cancelled' ? 'ticket-stub-cancelled' : ''}`} data-testid="ticket">
              <TicketQr code={t.code} label={`QR code for ${t.ticketTypeName} ticket ${t.code}`} dimmed={t.status === 'cancelled'} />
              <div className="flex-grow-1 min-w-0">
                <div className="fw-semibold">{t.ticketTypeName}</div>
                <div className="small text-secondary">{formatMoney(t.priceCents, t.currency)}</div>
                <div className="small font-monospace text-truncate" title={t.code}>
                  {t.code}
                </div>
                <div className="mt-2 d-flex flex-wrap align-items-center gap-2">
                  {t.status === 'valid' ? (
                    <>
                      <span className="badge text-bg-success" data-testid="ticket-status">
                        Valid
                      </span>
                      <button type="button" className="btn btn-link btn-sm text-danger p-0" onClick={() => onCancel(t)}>
                        Cancel<span className="visually-hidden"> ticket {t.code}</span>
                      </button>
                    </>
                  ) : (
                    <span className="badge text-bg-secondary" data-testid="ticket-status">
                      Cancelled
                    </span>
                  )}
                </div>
              </div>
            </div>
          </li>
        ))}
      </ul>
    </section>
  );
}
