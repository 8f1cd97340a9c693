import { useId, type Ref } from 'react';
import { zoneChangeEffect, zoneLabel } from './event-form-model';

/** "5 hours", "30 minutes", "5 hours 30 minutes". */
function duration(minutes: number): string {
  const h = Math.floor(minutes / 60);
  const m = minutes % 60;
  const parts = [h > 0 ? `${h} ${h === 1 ? 'hour' : 'hours'}` : '', m > 0 ? `${m} minutes` : ''];
  return parts.filter(Boolean).join(' ');
}

/** The time of a datetime-local value as typed, "19:00", with a word when the day differs from `other`'s. */
function timeOf(local: string, other: string): string {
  const time = local.slice(11, 16);
  const days = Math.round((Date.parse(`${local.slice(0, 10)}T00:00Z`) - Date.parse(`${other.slice(0, 10)}T00:00Z`)) / 86_400_000);
  if (days === 1) return `${time} the next day`;
  if (days === -1) return `${time} the day before`;
  return days === 0 ? time : `${local.slice(0, 10)} ${time}`;
}

interface ZoneChangeQuestionProps {
  /** The zone the times were typed in, and the one just chosen. */
  from: string;
  to: string;
  /** The start, or the end when there is no start: the time the question names. */
  local: string;
  onKeepWallClock: () => void;
  onKeepMoment: () => void;
  /** Set after a save was tried with the question still open. */
  unanswered: boolean;
  firstChoiceRef: Ref<HTMLButtonElement>;
}

/**
 * Asked when the time zone changes while a time is filled in: "19:00" typed for Lisbon is another moment in
 * New York. Keeping 19:00 moves the event; keeping the moment shows another time. Either can be meant, so the
 * form asks instead of picking one silently.
 */
export function ZoneChangeQuestion({ from, to, local, onKeepWallClock, onKeepMoment, unanswered, firstChoiceRef }: ZoneChangeQuestionProps) {
  const headingId = useId();
  const effect = zoneChangeEffect(local, from, to);
  if (!effect) return null;
  const place = zoneLabel(to);
  return (
    <div className="alert alert-warning mt-3 mb-0" role="group" aria-labelledby={headingId} data-testid="zone-change-question">
      <p className="fw-semibold mb-2" id={headingId}>
        The time zone changed from {zoneLabel(from)} to {place}. What should happen to the times?
      </p>
      <div className="d-flex flex-column flex-md-row gap-2">
        <button type="button" className="btn btn-outline-dark btn-sm text-start" onClick={onKeepWallClock} ref={firstChoiceRef}>
          Keep {local.slice(11, 16)} in {place} (the event moves {duration(Math.abs(effect.movesByMinutes))} {effect.movesByMinutes > 0 ? 'later' : 'earlier'})
        </button>
        <button type="button" className="btn btn-outline-dark btn-sm text-start" onClick={onKeepMoment}>
          Keep the same moment (shown as {timeOf(effect.sameMoment, local)} in {place})
        </button>
      </div>
      {unanswered && (
        <p className="text-danger-emphasis fw-medium small mt-2 mb-0" role="alert">
          Choose one of these before saving.
        </p>
      )}
    </div>
  );
}
