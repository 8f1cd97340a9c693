import { useId, useState, type ReactNode } from 'react';
import { Link } from 'react-router';
import { AnnouncementBody, type Availability, type Event } from '@dems/contracts';
import { ConfirmChangeDialog, useConfirmedChange } from '@/components/confirm-dialog';
import { ErrorAlert } from '@/components/error-alert';
import { Field } from '@/components/form-field';
import { LoadingCard } from '@/components/query-states';
import { PageHeader } from '@/components/page-header';
import { LineSkeletons } from '@/components/skeleton';
import { ShowMore } from '@/components/show-more';
import { ApiError } from '@/lib/api-client';
import { formatDateTime, formatEventTime, formatMoney } from '@/lib/format';
import { useAnnounce, useAttendees, useCancelEvent, useManagedEvent, useSales } from '@/features/organizer/api/organizer-api';

/** Revenue per currency from what is sold now (refunded seats are no longer sold). */
export function revenue(availability: Availability): { currency: string; cents: number }[] {
  const byCurrency = new Map<string, number>();
  for (const t of availability.ticketTypes) byCurrency.set(t.currency, (byCurrency.get(t.currency) ?? 0) + t.sold * t.priceCents);
  return [...byCurrency].map(([currency, cents]) => ({ currency, cents }));
}

/** `sections`: more of the organizer's tools for this event, from other features (the waiting room), beside the announcement form. */
export function EventDashboardPage({ id, sections }: { id: string; sections?: (event: Event) => ReactNode }) {
  // Refreshed like the attendee list, so the registration count stays live while the page is open.
  const event = useManagedEvent(id, { poll: 15_000 });
  if (event.isPending) {
    return <LoadingCard lines={6} label="Loading the dashboard…" />;
  }
  if (event.isError) return <ErrorAlert error={event.error} onRetry={() => void event.refetch()} />;
  return <Dashboard event={event.data} sections={sections} />;
}

function Dashboard({ event, sections }: { event: Event; sections?: (event: Event) => ReactNode }) {
  const sales = useSales(event.id);
  const attendees = useAttendees(event.id);
  const attendeeList = attendees.data?.pages.flatMap((p) => p.items) ?? [];
  const cancel = useCancelEvent(event.id);
  const cancellation = useConfirmedChange(cancel, { title: 'Event cancelled', body: 'Tickets are being refunded and attendees notified.' });
  const cancelled = event.status === 'cancelled';
  const sold = sales.data?.ticketTypes.reduce((s, t) => s + t.sold, 0) ?? 0;
  const capacity = sales.data?.ticketTypes.reduce((s, t) => s + t.capacity, 0) ?? 0;
  const notOnSaleYet = sales.error instanceof ApiError && sales.error.code === 'EVENT_NOT_FOUND';

  return (
    <>
      <PageHeader
        title={event.title}
        subtitle={
          <>
            <span data-testid="event-time">{formatEventTime(event)}</span> · {event.venue}{' '}
            {cancelled ? <span className="badge text-bg-danger ms-1">Cancelled</span> : <span className="badge text-bg-success ms-1">Published</span>}
          </>
        }
        actions={
          <>
            <Link to={`/events/${event.id}`} className="btn btn-outline-primary">
              View public page
            </Link>
            {!cancelled && (
              <>
                <Link to={`/organizer/events/${event.id}/edit`} className="btn btn-outline-secondary">
                  Edit
                </Link>
                <button type="button" className="btn btn-outline-danger" onClick={cancellation.ask}>
                  Cancel event
                </button>
              </>
            )}
          </>
        }
      />
      {cancelled && (
        <div className="alert alert-danger" role="status">
          This event is cancelled. Every ticket was refunded and attendees were notified.
        </div>
      )}

      <div className="row g-3 mb-4">
        <Stat label="Tickets sold" value={sales.data ? `${sold}` : '—'} sub={sales.data ? `of ${capacity}` : undefined} testId="stat-sold" />
        <Stat
          label="Revenue"
          value={
            sales.data
              ? revenue(sales.data)
                  .map((r) => formatMoney(r.cents, r.currency, { freeAsWord: false }))
                  .join(' + ') || formatMoney(0, 'USD', { freeAsWord: false })
              : '—'
          }
          testId="stat-revenue"
        />
        <Stat
          label="Registrations"
          value={String(event.registrationCount)}
          sub={event.registrationLimit ? `limit ${event.registrationLimit}` : 'free RSVPs'}
          testId="stat-registrations"
        />
      </div>

      <div className="row g-4">
        <div className="col-12 col-lg-7">
          <section className="bg-white rounded-4 shadow-sm p-3 p-md-4 mb-4" aria-labelledby="sales-heading">
            <h2 className="h5 fw-bold mb-3" id="sales-heading">
              Sales by ticket type
            </h2>
            {sales.isPending && !sales.error ? (
              <LineSkeletons lines={3} label="Loading sales…" />
            ) : notOnSaleYet ? (
              <p className="text-secondary mb-0" role="status">
                Tickets go on sale in a moment…
              </p>
            ) : sales.isError && !sales.data ? (
              <ErrorAlert error={sales.error} onRetry={() => void sales.refetch()} />
            ) : (
              sales.data?.ticketTypes.map((t) => {
                const pct = t.capacity ? Math.round((t.sold / t.capacity) * 100) : 0;
                return (
                  <div className="mb-3" key={t.ticketTypeId} data-testid={`sales-${t.name}`}>
                    <div className="d-flex justify-content-between small mb-1">
                      <span className="fw-semibold">
                        {t.name} · {formatMoney(t.priceCents, t.currency)}
                      </span>
                      <span>
                        <span data-testid="sold">{t.sold} sold</span> · {t.remaining} left
                      </span>
                    </div>
                    <div
                      className="progress sales-bar"
                      role="progressbar"
                      aria-label={`${t.name}: ${t.sold} of ${t.capacity} sold`}
                      aria-valuenow={t.sold}
                      aria-valuemin={0}
                      aria-valuemax={t.capacity}
                    >
                      <div className="progress-bar" style={{ width: `${pct}%` }} />
                    </div>
                  </div>
                );
              })
            )}
          </section>

          <section className="bg-white rounded-4 shadow-sm p-3 p-md-4 mb-4" aria-labelledby="attendees-heading">
            <h2 className="h5 fw-bold mb-3" id="attendees-heading">
              Registered attendees
            </h2>
            {attendees.isPending ? (
              <LineSkeletons lines={3} label="Loading attendees…" />
            ) : attendees.isError && attendeeList.length === 0 ? (
              <ErrorAlert error={attendees.error} onRetry={() => void attendees.refetch()} />
            ) : attendeeList.length === 0 ? (
              <p className="text-secondary mb-0">Nobody has registered yet.</p>
            ) : (
              <div className="table-responsive">
                <table className="table table-sm align-middle mb-0">
                  <thead>
                    <tr>
                      <th scope="col">Name</th>
                      <th scope="col">Email</th>
                      <th scope="col">Registered</th>
                    </tr>
                  </thead>
                  <tbody>
                    {attendeeList.map((r) => (
                      <tr key={r.id}>
                        <td>{r.userName}</td>
                        <td className="text-break">{r.userEmail}</td>
                        {/* When they signed up is the organizer's own time, not the event's: in the reader's zone, named, beside event times in another. */}
                        <td className="text-nowrap">{formatDateTime(r.createdAt)}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
                <ShowMore list={attendees} label="Show more attendees" loading="Loading more attendees…" className="text-center mt-3" small />
              </div>
            )}
          </section>
        </div>
        <div className="col-12 col-lg-5">
          {sections?.(event)}
          <AnnouncementForm event={event} />
        </div>
      </div>

      <ConfirmChangeDialog {...cancellation.dialog} title="Cancel this event?" confirmLabel="Cancel event" cancelLabel="Keep event">
        <p>
          <strong>{event.title}</strong> will be cancelled. All {sold} {sold === 1 ? 'ticket' : 'tickets'} sold will be refunded in full, and everyone with a ticket or registration
          will be notified.
        </p>
        <p className="mb-0">This cannot be undone.</p>
      </ConfirmChangeDialog>
    </>
  );
}

function Stat({ label, value, sub, testId }: { label: string; value: string; sub?: string; testId: string }) {
  return (
    <div className="col-6 col-md-4">
      <div className="stat-card bg-white rounded-4 shadow-sm p-3 h-100" data-testid={testId}>
        <div className="small text-secondary fw-medium">{label}</div>
        <div className="fs-3 fw-bold">{value}</div>
        {sub && <div className="small text-secondary">{sub}</div>}
      </div>
    </div>
  );
}

function AnnouncementForm({ event }: { event: Event }) {
  const [message, setMessage] = useState('');
  const [error, setError] = useState<string | undefined>();
  const announce = useAnnounce();
  const headingId = useId();
  const disabled = event.status === 'cancelled';
  return (
    <section className="bg-white rounded-4 shadow-sm p-3 p-md-4" aria-labelledby={headingId}>
      <h2 className="h5 fw-bold" id={headingId}>
        Send an announcement
      </h2>
      <p className="text-secondary small">Everyone registered or holding a ticket gets it as a notification, instantly.</p>
      <form
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          const parsed = AnnouncementBody.safeParse({ eventId: event.id, message });
          if (!parsed.success) {
            setError(message.trim() ? 'Keep the message under 2,000 characters.' : 'Write a message first.');
            return;
          }
          setError(undefined);
          announce.mutate(parsed.data, { onSuccess: () => setMessage('') });
        }}
      >
        <Field label="Message" error={error}>
          <textarea rows={4} value={message} onChange={(e) => setMessage(e.target.value)} disabled={disabled} maxLength={2000} />
        </Field>
        {announce.isError && <ErrorAlert error={announce.error} />}
        {announce.isSuccess && (
          <div className="alert alert-success py-2" role="status">
            Sent to {announce.data.recipients} {announce.data.recipients === 1 ? 'person' : 'people'}.
          </div>
        )}
        <button type="submit" className="btn btn-primary" disabled={announce.isPending || disabled}>
          {announce.isPending && <span className="spinner-border spinner-border-sm me-2" aria-hidden="true" />}
          Send announcement
        </button>
      </form>
    </section>
  );
}
