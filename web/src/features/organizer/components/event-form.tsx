import { useMemo, useRef, useState } from 'react';
import type { Event } from '@dems/contracts';
import { ErrorAlert } from '@/components/error-alert';
import { Field } from '@/components/form-field';
import { UnsavedChangesGuard } from '@/components/unsaved-changes-guard';
import { ApiError } from '@/lib/api-client';
import { fieldErrors } from '@/lib/error-messages';
import { newTicketType, sameMomentsIn, timeZones, zoneChangeEffect, zoneLabel, type EventDraft, type TicketTypeDraft, type ValidationResult } from './event-form-model';
import { ZoneChangeQuestion } from './zone-change-question';

/** The part of a create or update mutation (TanStack Query) that the form drives. */
export interface EventSave<T> {
  mutate: (body: T, callbacks: { onSuccess: (event: Event) => void }) => void;
  isPending: boolean;
  error: unknown;
}

interface EventFormProps<T> {
  initial: EventDraft;
  validate: (draft: EventDraft) => ValidationResult<T>;
  /** Sends the valid body; its pending state and error show on the form. */
  save: EventSave<T>;
  onSaved: (event: Event) => void;
  submitLabel: string;
  /** Ticket types that already exist cannot be removed (the API keeps unlisted ones); only new rows can. */
  lockedTicketTypeIds?: Set<string>;
  onCancel?: () => void;
}

/** Create and edit share this form: validation messages beside each field, ticket types added and removed inline. */
export function EventForm<T>({ initial, validate, save, onSaved, submitLabel, lockedTicketTypeIds, onCancel }: EventFormProps<T>) {
  const [draft, setDraft] = useState(initial);
  // What the form started from: a draft equal to it has nothing to lose. Saving leaves at once, in the same tick.
  const [pristine] = useState(initial);
  const saved = useRef(false);
  const unsaved = () => !saved.current && draft !== pristine && JSON.stringify(draft) !== JSON.stringify(pristine);
  const [attempted, setAttempted] = useState(false);
  // Open while a zone change with times filled in waits for "keep the wall clock" or "keep the moment";
  // `from` is the zone the times were typed in, kept however often the zone changes before the answer.
  const [zoneQuestion, setZoneQuestion] = useState<{ from: string; unanswered: boolean } | null>(null);
  const firstZoneChoice = useRef<HTMLButtonElement>(null);
  const zoneSelect = useRef<HTMLSelectElement>(null);
  // After a first attempt, messages follow the typing: a fixed field loses its message at once.
  const errors = useMemo<Record<string, string>>(() => {
    if (!attempted) return {};
    const result = validate(draft);
    return result.ok ? {} : result.errors;
  }, [attempted, draft, validate]);
  const zones = useMemo(() => {
    const all = timeZones();
    return all.includes(draft.timezone) ? all : [draft.timezone, ...all];
  }, [draft.timezone]);

  const server = fieldErrors(save.error);
  const errorFor = (path: string) => errors[path] ?? server[path];
  const set = <K extends keyof EventDraft>(key: K, value: EventDraft[K]) => setDraft((d) => ({ ...d, [key]: value }));
  const setType = (key: string, patch: Partial<TicketTypeDraft>) => setDraft((d) => ({ ...d, ticketTypes: d.ticketTypes.map((t) => (t.key === key ? { ...t, ...patch } : t)) }));

  const changeZone = (to: string) => {
    const from = zoneQuestion?.from ?? draft.timezone;
    const meaningsDiffer = [draft.startsAt, draft.endsAt].some((local) => zoneChangeEffect(local, from, to) !== null);
    setZoneQuestion(meaningsDiffer ? { from, unanswered: false } : null);
    set('timezone', to);
  };
  const answerZoneQuestion = (keepMoment: boolean) => {
    const from = zoneQuestion?.from ?? draft.timezone;
    if (keepMoment) setDraft((d) => ({ ...d, ...sameMomentsIn(d, from, d.timezone) }));
    setZoneQuestion(null);
    // The answer's button goes away with the question: focus returns to the zone it was about.
    zoneSelect.current?.focus();
  };
  // A time typed after the zone changed is typed in the new zone: the question no longer applies.
  const setTime = (key: 'startsAt' | 'endsAt', value: string) => {
    setZoneQuestion(null);
    set(key, value);
  };

  const submit = (e: React.FormEvent) => {
    e.preventDefault();
    if (zoneQuestion) {
      setZoneQuestion({ ...zoneQuestion, unanswered: true });
      requestAnimationFrame(() => firstZoneChoice.current?.focus());
      return;
    }
    setAttempted(true);
    const result = validate(draft);
    if (!result.ok) {
      // Take keyboard and screen-reader users to the first problem.
      requestAnimationFrame(() => document.querySelector<HTMLElement>('form [aria-invalid="true"]')?.focus());
      return;
    }
    save.mutate(result.body, {
      onSuccess: (event) => {
        saved.current = true;
        onSaved(event);
      },
    });
  };

  const showServerAlert = save.error instanceof ApiError ? Object.keys(server).length === 0 : Boolean(save.error);

  return (
    <form onSubmit={submit} noValidate className="event-form">
      <UnsavedChangesGuard unsaved={unsaved} what="your changes to this event" />
      <section className="bg-white rounded-4 shadow-sm p-3 p-md-4 mb-4" aria-labelledby="details-heading">
        <h2 className="h5 fw-bold mb-3" id="details-heading">
          Details
        </h2>
        <Field label="Title" error={errorFor('title')}>
          <input type="text" value={draft.title} onChange={(e) => set('title', e.target.value)} maxLength={200} />
        </Field>
        <Field label="Description" error={errorFor('description')} hint="What should people know? Line breaks are kept.">
          <textarea rows={4} value={draft.description} onChange={(e) => set('description', e.target.value)} />
        </Field>
        <Field label="Venue" error={errorFor('venue')}>
          <input type="text" value={draft.venue} onChange={(e) => set('venue', e.target.value)} maxLength={200} />
        </Field>
        <div className="row g-3">
          <div className="col-12 col-md-4">
            <Field label="Time zone" error={errorFor('timezone')} className="mb-0">
              <select className="form-select" ref={zoneSelect} value={draft.timezone} onChange={(e) => changeZone(e.target.value)}>
                {zones.map((z) => (
                  <option key={z} value={z}>
                    {zoneLabel(z)}
                  </option>
                ))}
              </select>
            </Field>
          </div>
          <div className="col-12 col-sm-6 col-md-4">
            <Field label="Starts" error={errorFor('startsAt')} className="mb-0">
              <input type="datetime-local" value={draft.startsAt} onChange={(e) => setTime('startsAt', e.target.value)} />
            </Field>
          </div>
          <div className="col-12 col-sm-6 col-md-4">
            <Field label="Ends" error={errorFor('endsAt')} className="mb-0">
              <input type="datetime-local" value={draft.endsAt} onChange={(e) => setTime('endsAt', e.target.value)} />
            </Field>
          </div>
        </div>
        {/* Always there, so the question is announced when it appears; focus stays on the zone list meanwhile. */}
        <div aria-live="polite">
          {zoneQuestion && (
            <ZoneChangeQuestion
              from={zoneQuestion.from}
              to={draft.timezone}
              local={[draft.startsAt, draft.endsAt].find((local) => zoneChangeEffect(local, zoneQuestion.from, draft.timezone) !== null) ?? ''}
              unanswered={zoneQuestion.unanswered}
              firstChoiceRef={firstZoneChoice}
              onKeepWallClock={() => answerZoneQuestion(false)}
              onKeepMoment={() => answerZoneQuestion(true)}
            />
          )}
        </div>
        <p className="form-text mb-3">Start and end are in the event’s time zone.</p>
        <Field label="RSVP limit (optional)" error={errorFor('registrationLimit')} hint="Leave empty for unlimited free registrations." className="mb-0">
          <input type="number" inputMode="numeric" min={1} value={draft.registrationLimit} onChange={(e) => set('registrationLimit', e.target.value)} />
        </Field>
      </section>

      <section className="bg-white rounded-4 shadow-sm p-3 p-md-4 mb-4" aria-labelledby="types-heading">
        <div className="d-flex justify-content-between align-items-center mb-3">
          <h2 className="h5 fw-bold mb-0" id="types-heading">
            Ticket types
          </h2>
          <button
            type="button"
            className="btn btn-outline-primary btn-sm"
            onClick={() => set('ticketTypes', [...draft.ticketTypes, newTicketType()])}
            disabled={draft.ticketTypes.length >= 20}
          >
            + Add ticket type
          </button>
        </div>
        {errorFor('ticketTypes') && (
          <div className="alert alert-danger py-2" role="alert">
            {errorFor('ticketTypes')}
          </div>
        )}
        {draft.ticketTypes.map((t, i) => {
          const locked = t.id !== undefined && (lockedTicketTypeIds?.has(t.id) ?? false);
          const n = i + 1;
          return (
            <fieldset className="ticket-type-row border rounded-3 p-3 mb-3" key={t.key} data-testid="ticket-type-row">
              <legend className="visually-hidden">Ticket type {n}</legend>
              <div className="row g-2 align-items-start">
                <div className="col-12 col-md-4">
                  <Field
                    label={
                      <>
                        Name<span className="visually-hidden"> (type {n})</span>
                      </>
                    }
                    error={errorFor(`ticketTypes.${i}.name`)}
                    className="mb-0"
                  >
                    <input type="text" value={t.name} onChange={(e) => setType(t.key, { name: e.target.value })} maxLength={80} />
                  </Field>
                </div>
                <div className="col-6 col-md-3">
                  <Field
                    label={
                      <>
                        Price<span className="visually-hidden"> (type {n})</span>
                      </>
                    }
                    error={errorFor(`ticketTypes.${i}.priceCents`)}
                    className="mb-0"
                  >
                    <input type="text" inputMode="decimal" placeholder="0.00" value={t.price} onChange={(e) => setType(t.key, { price: e.target.value })} />
                  </Field>
                </div>
                <div className="col-6 col-md-2">
                  <Field
                    label={
                      <>
                        Currency<span className="visually-hidden"> (type {n})</span>
                      </>
                    }
                    error={errorFor(`ticketTypes.${i}.currency`)}
                    className="mb-0"
                  >
                    <input type="text" maxLength={3} value={t.currency} onChange={(e) => setType(t.key, { currency: e.target.value.toUpperCase() })} />
                  </Field>
                </div>
                <div className="col-8 col-md-2">
                  <Field
                    label={
                      <>
                        Capacity<span className="visually-hidden"> (type {n})</span>
                      </>
                    }
                    error={errorFor(`ticketTypes.${i}.capacity`)}
                    className="mb-0"
                  >
                    <input type="number" inputMode="numeric" min={1} value={t.capacity} onChange={(e) => setType(t.key, { capacity: e.target.value })} />
                  </Field>
                </div>
                <div className="col-4 col-md-1 d-flex align-items-end justify-content-end remove-col">
                  {!locked && (
                    <button
                      type="button"
                      className="btn btn-outline-danger btn-sm"
                      onClick={() =>
                        set(
                          'ticketTypes',
                          draft.ticketTypes.filter((x) => x.key !== t.key),
                        )
                      }
                      aria-label={`Remove ticket type ${n}${t.name ? ` (${t.name})` : ''}`}
                    >
                      Remove
                    </button>
                  )}
                </div>
              </div>
            </fieldset>
          );
        })}
      </section>

      {errors.form && (
        <div className="alert alert-info" role="status">
          {errors.form}
        </div>
      )}
      {showServerAlert && <ErrorAlert error={save.error} />}
      {Object.keys(errors).length > 0 && !errors.form && (
        <p className="text-danger fw-medium" role="alert">
          Please fix the highlighted fields.
        </p>
      )}
      <div className="d-flex gap-2 justify-content-end">
        {onCancel && (
          <button type="button" className="btn btn-outline-secondary" onClick={onCancel}>
            Back
          </button>
        )}
        <button type="submit" className="btn btn-primary px-4" disabled={save.isPending}>
          {save.isPending && <span className="spinner-border spinner-border-sm me-2" aria-hidden="true" />}
          {submitLabel}
        </button>
      </div>
    </form>
  );
}
