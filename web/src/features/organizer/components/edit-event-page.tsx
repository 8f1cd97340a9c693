import { useCallback, useMemo } from 'react';
import { useNavigate } from 'react-router';
import type { Event } from '@dems/contracts';
import { ErrorAlert } from '@/components/error-alert';
import { PageHeader } from '@/components/page-header';
import { LoadingCard } from '@/components/query-states';
import { useToast } from '@/components/toasts';
import { useManagedEvent, useUpdateEvent } from '@/features/organizer/api/organizer-api';
import { BannerEditor } from './banner-editor';
import { EventForm } from './event-form';
import { draftFromEvent, validateUpdate, type EventDraft } from './event-form-model';

export function EditEventPage({ id }: { id: string }) {
  const event = useManagedEvent(id);
  if (event.isPending) {
    return <LoadingCard lines={6} label="Loading the event…" />;
  }
  if (event.isError) return <ErrorAlert error={event.error} onRetry={() => void event.refetch()} />;
  if (event.data.status === 'cancelled') {
    return (
      <>
        <PageHeader title={`Edit ${event.data.title}`} />
        <div className="alert alert-warning">This event was cancelled, so it can no longer be changed.</div>
      </>
    );
  }
  return <EditForm event={event.data} />;
}

function EditForm({ event }: { event: Event }) {
  const update = useUpdateEvent(event.id);
  const navigate = useNavigate();
  const toast = useToast();
  const initial = useMemo(() => draftFromEvent(event), [event]);
  const validate = useCallback((d: EventDraft) => validateUpdate(d, event), [event]);
  return (
    <div className="narrow-page mx-auto">
      <PageHeader title={`Edit ${event.title}`} subtitle="Attendees are notified of changes to the time or place." />
      <BannerEditor event={event} />
      <EventForm
        initial={initial}
        validate={validate}
        save={update}
        onSaved={() => {
          toast({ title: 'Changes saved', tone: 'success' });
          navigate(`/organizer/events/${event.id}`);
        }}
        submitLabel="Save changes"
        lockedTicketTypeIds={new Set(event.ticketTypes.map((t) => t.id))}
        onCancel={() => navigate(`/organizer/events/${event.id}`)}
      />
    </div>
  );
}
