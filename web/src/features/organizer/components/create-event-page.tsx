import { useMemo } from 'react';
import { useNavigate } from 'react-router';
import { PageHeader } from '@/components/page-header';
import { useToast } from '@/components/toasts';
import { useCreateEvent } from '@/features/organizer/api/organizer-api';
import { EventForm } from './event-form';
import { emptyDraft, validateCreate } from './event-form-model';

export function CreateEventPage() {
  const create = useCreateEvent();
  const navigate = useNavigate();
  const toast = useToast();
  const initial = useMemo(() => emptyDraft(), []);
  return (
    <div className="narrow-page mx-auto">
      <PageHeader title="Create an event" subtitle="It is published as soon as you save; tickets go on sale a moment later." />
      <EventForm
        initial={initial}
        validate={validateCreate}
        save={create}
        onSaved={(event) => {
          toast({ title: 'Event published', body: `${event.title} is live.`, tone: 'success' });
          navigate(`/organizer/events/${event.id}`);
        }}
        submitLabel="Publish event"
        onCancel={() => navigate('/organizer')}
      />
    </div>
  );
}
