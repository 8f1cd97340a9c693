import { useId, useState } from 'react';
import { WAITING_ROOM_DEFAULT_PASS_MINUTES, WaitingRoomSettingsBody, type Event, type WaitingRoom } from '@dems/contracts';
import { ConfirmChangeDialog, useConfirmedChange } from '@/components/confirm-dialog';
import { ErrorAlert } from '@/components/error-alert';
import { Field } from '@/components/form-field';
import { LineSkeletons } from '@/components/skeleton';
import { useToast } from '@/components/toasts';
import { fieldErrors } from '@/lib/error-messages';
import { formatDateTime, isoToZonedInput, zonedInputToIso } from '@/lib/format';
import { useRemoveWaitingRoom, useSaveWaitingRoom, useWaitingRoom } from '@/features/waiting-room/api/waiting-room-api';

/** What ticketing admits per minute when the organizer does not say (its WAITING_ROOM_ADMIT_PER_MINUTE default). */
export const DEFAULT_ADMIT_PER_MINUTE = 600;

interface Draft {
  opensAt: string;
  admitPerMinute: string;
  passMinutes: string;
}
type DraftErrors = Partial<Record<keyof Draft, string>>;

const toInt = (s: string) => (/^\s*\d+\s*$/.test(s) ? Number(s) : Number.NaN);

const FRIENDLY: Record<keyof Draft, string> = {
  opensAt: 'Choose when the sale opens.',
  admitPerMinute: 'Enter a whole number of buyers per minute, from 1 to 100,000.',
  passMinutes: 'Enter a whole number of minutes, from 1 to 60.',
};

/** The typed draft as the PUT body, or the sentence beside each field that is wrong (the rules are the shared schema). */
export function readDraft(draft: Draft, timezone: string): { body: WaitingRoomSettingsBody } | { errors: DraftErrors } {
  const parsed = WaitingRoomSettingsBody.safeParse({
    opensAt: zonedInputToIso(draft.opensAt, timezone) ?? '',
    admitPerMinute: toInt(draft.admitPerMinute),
    passMinutes: toInt(draft.passMinutes),
  });
  if (parsed.success) return { body: parsed.data };
  const errors: DraftErrors = {};
  for (const issue of parsed.error.issues) {
    const field = issue.path[0] as keyof Draft;
    errors[field] ??= FRIENDLY[field];
  }
  return { errors };
}

const draftFrom = (room: WaitingRoom | null, timezone: string): Draft => ({
  opensAt: room ? isoToZonedInput(room.opensAt, timezone) : '',
  admitPerMinute: String(room?.admitPerMinute ?? DEFAULT_ADMIT_PER_MINUTE),
  passMinutes: String(room?.passMinutes ?? WAITING_ROOM_DEFAULT_PASS_MINUTES),
});

/**
 * The organizer's "Waiting room" section: queue the sale from a time on, at a rate the sale can take, with a
 * pass long enough to buy; change it; turn it off. The figures (joined, let in) stay live while the page is open.
 */
export function WaitingRoomSettings({ event }: { event: Event }) {
  const room = useWaitingRoom(event.id);
  const headingId = useId();
  return (
    <section className="bg-white rounded-4 shadow-sm p-3 p-md-4 mb-4" aria-labelledby={headingId}>
      <h2 className="h5 fw-bold" id={headingId}>
        Waiting room
      </h2>
      {room.isPending ? (
        <LineSkeletons lines={3} label="Loading the waiting room…" />
      ) : room.isError ? (
        <ErrorAlert error={room.error} onRetry={() => void room.refetch()} />
      ) : (
        <RoomForm event={event} room={room.data} />
      )}
    </section>
  );
}

function RoomForm({ event, room }: { event: Event; room: WaitingRoom | null }) {
  const [draft, setDraft] = useState(() => draftFrom(room, event.timezone));
  const [errors, setErrors] = useState<DraftErrors>({});
  const save = useSaveWaitingRoom(event.id);
  const remove = useRemoveWaitingRoom(event.id);
  const turningOff = useConfirmedChange(remove, { title: 'Waiting room turned off', body: 'Buyers can buy directly again.' });
  const toast = useToast();
  const disabled = event.status === 'cancelled';
  const serverErrors = fieldErrors(save.error);
  const set = (field: keyof Draft) => (e: React.ChangeEvent<HTMLInputElement>) => setDraft((d) => ({ ...d, [field]: e.target.value }));

  return (
    <>
      {room ? (
        <div data-testid="waiting-room-live">
          <p className="mb-2">
            <span className="badge text-bg-primary me-1">Queued</span> The sale {Date.parse(room.opensAt) > Date.parse(room.now) ? 'opens' : 'opened'}{' '}
            {formatDateTime(room.opensAt, event.timezone)}.
          </p>
          <div className="row g-2 mb-3" aria-live="polite">
            <div className="col-6">
              <div className="small text-secondary">Joined</div>
              <div className="fs-4 fw-bold" data-testid="waiting-room-joined">
                {room.joined}
              </div>
            </div>
            <div className="col-6">
              <div className="small text-secondary">Let in so far</div>
              <div className="fs-4 fw-bold" data-testid="waiting-room-admitted">
                {Math.min(room.admittedThrough, room.joined)}
              </div>
            </div>
          </div>
          {room.soldOut && <p className="small text-secondary">Sold out: nobody more is being let in.</p>}
        </div>
      ) : (
        <p className="text-secondary small">
          A queued sale lets buyers in a few at a time, in the order they arrive, so a rush never overwhelms the sale and nobody has to race. From the opening time on, buying needs
          a place in the queue.
        </p>
      )}
      <form
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          const read = readDraft(draft, event.timezone);
          if ('errors' in read) {
            setErrors(read.errors);
            return;
          }
          setErrors({});
          save.mutate(read.body, {
            onSuccess: () => toast({ title: room ? 'Waiting room updated' : 'Sale queued', body: 'Buyers now join the queue on the event page.', tone: 'success' }),
          });
        }}
      >
        <Field label="Sale opens at" hint={`In the event’s time zone (${event.timezone}).`} error={errors.opensAt ?? serverErrors.opensAt}>
          <input type="datetime-local" value={draft.opensAt} onChange={set('opensAt')} disabled={disabled} />
        </Field>
        <div className="row g-2">
          <Field
            className="col-12 col-sm-7 mb-3"
            label="Admissions per minute"
            hint="≈ how many buyers per minute your sale can take."
            error={errors.admitPerMinute ?? serverErrors.admitPerMinute}
          >
            <input type="number" inputMode="numeric" min={1} max={100_000} value={draft.admitPerMinute} onChange={set('admitPerMinute')} disabled={disabled} />
          </Field>
          <Field className="col-12 col-sm-5 mb-3" label="Pass minutes" hint="Time an admitted buyer has to buy." error={errors.passMinutes ?? serverErrors.passMinutes}>
            <input type="number" inputMode="numeric" min={1} max={60} value={draft.passMinutes} onChange={set('passMinutes')} disabled={disabled} />
          </Field>
        </div>
        {save.isError && Object.keys(serverErrors).length === 0 && <ErrorAlert error={save.error} />}
        <div className="d-flex flex-wrap gap-2">
          <button type="submit" className="btn btn-primary" disabled={save.isPending || disabled}>
            {save.isPending && <span className="spinner-border spinner-border-sm me-2" aria-hidden="true" />}
            {room ? 'Save changes' : 'Queue the sale'}
          </button>
          {room && (
            <button type="button" className="btn btn-outline-danger" onClick={turningOff.ask} disabled={disabled}>
              Turn off
            </button>
          )}
        </div>
      </form>
      <ConfirmChangeDialog {...turningOff.dialog} title="Turn off the waiting room?" confirmLabel="Turn off" cancelLabel="Keep it">
        <p className="mb-0">Buyers will no longer queue: anyone can buy directly, and people waiting in the queue are simply shown the tickets.</p>
      </ConfirmChangeDialog>
    </>
  );
}
