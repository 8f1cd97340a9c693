import { useId, useRef, useState, type DragEvent } from 'react';
import { BANNER_MAX_BYTES, type Event } from '@dems/contracts';
import { ConfirmChangeDialog, useConfirmedChange } from '@/components/confirm-dialog';
import { EventCover } from '@/components/event-cover';
import { useToast } from '@/components/toasts';
import { useRemoveBanner, useUploadBanner } from '@/features/organizer/api/organizer-api';
import { BANNER_ACCEPT, bannerContentType, bannerErrorMessage, bannerFileProblem, formatBytes } from './banner-file';

/** A file that passed the checks, waiting for the organizer to upload it. */
interface Chosen {
  file: File;
  contentType: string;
  /**
   * The file as a data: URL, once read. Not an object (blob:) URL: the web app's Content-Security-Policy
   * allows images from itself and data: only.
   */
  previewUrl: string | null;
  /** The browser could not draw it: damaged, or not really an image whatever its name says. */
  unreadable: boolean;
}

const isAbort = (error: unknown) => error instanceof DOMException && error.name === 'AbortError';

/**
 * Upload, replace or remove an event's banner. A file is checked (type, size) the moment it is chosen or
 * dropped, shown as a preview, and sent only when the organizer presses Upload; the server then checks its
 * content and re-encodes it. The banner changes on its own endpoint, independent of the event form below it.
 */
export function BannerEditor({ event }: { event: Event }) {
  const upload = useUploadBanner(event.id);
  const remove = useRemoveBanner(event.id);
  const toast = useToast();
  const [chosen, setChosen] = useState<Chosen | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const [dragging, setDragging] = useState(false);
  const removal = useConfirmedChange(remove, { title: 'Banner removed', body: 'Cards and the event page show a generated cover instead.' });
  const input = useRef<HTMLInputElement>(null);
  const inputId = useId();
  const hintId = useId();
  const problemId = useId();
  const headingId = useId();

  const choose = (file: File | undefined) => {
    if (!file) return;
    upload.reset();
    const issue = bannerFileProblem(file);
    setProblem(issue);
    if (issue) return setChosen(null);
    setChosen({ file, contentType: bannerContentType(file)!, previewUrl: null, unreadable: false });
    const reader = new FileReader();
    // Only if this file is still the chosen one: a quicker second choice must not get the first one's picture.
    reader.onload = () => setChosen((c) => (c?.file === file ? { ...c, previewUrl: String(reader.result) } : c));
    reader.onerror = () => setChosen((c) => (c?.file === file ? { ...c, unreadable: true } : c));
    reader.readAsDataURL(file);
  };
  const clear = () => {
    setChosen(null);
    setProblem(null);
    upload.reset();
    if (input.current) input.current.value = '';
  };
  const start = (c: Chosen) => {
    const replacing = Boolean(event.bannerUrl);
    upload.mutate(
      { file: c.file, contentType: c.contentType },
      {
        onSuccess: () => {
          toast({ title: replacing ? 'Banner replaced' : 'Banner added', body: 'Cards and the event page show it now.', tone: 'success' });
          clear();
        },
      },
    );
  };
  const onDrop = (e: DragEvent) => {
    e.preventDefault();
    setDragging(false);
    if (!upload.isPending) choose(e.dataTransfer.files[0]);
  };

  const progress = upload.progress;
  const percent = progress && progress.total > 0 ? Math.round((progress.loaded / progress.total) * 100) : 0;
  const sentAll = progress !== null && progress.total > 0 && progress.loaded >= progress.total;

  return (
    <section className="bg-white rounded-4 shadow-sm p-3 p-md-4 mb-4" aria-labelledby={headingId}>
      <h2 className="h5 fw-bold" id={headingId}>
        Banner
      </h2>
      <div className="row g-3 align-items-start">
        <div className="col-12 col-md-6">
          {chosen ? (
            <div className="event-cover rounded-3 banner-preview">
              {chosen.previewUrl && (
                <img
                  className="event-cover-img"
                  src={chosen.previewUrl}
                  alt={`Preview of ${chosen.file.name}`}
                  onError={() => setChosen((c) => (c?.file === chosen.file ? { ...c, unreadable: true } : c))}
                  data-testid="banner-preview"
                />
              )}
            </div>
          ) : (
            <EventCover event={event} variant="card" className="rounded-3" />
          )}
          <p className="small text-secondary mt-1 mb-0" data-testid="banner-caption">
            {chosen ? 'Preview — not uploaded yet.' : event.bannerUrl ? 'The current banner.' : 'No banner yet: cards show this generated cover.'}
          </p>
        </div>
        <div className="col-12 col-md-6">
          <div
            className={`banner-drop rounded-3 p-3 ${dragging ? 'banner-drop-active' : ''}`}
            onDragOver={(e) => {
              e.preventDefault();
              setDragging(true);
            }}
            onDragLeave={() => setDragging(false)}
            onDrop={onDrop}
            data-testid="banner-drop"
          >
            <label htmlFor={inputId} className="form-label fw-semibold">
              {event.bannerUrl ? 'New banner image' : 'Banner image'}
            </label>
            <input
              id={inputId}
              ref={input}
              type="file"
              className={`form-control ${problem ? 'is-invalid' : ''}`}
              accept={BANNER_ACCEPT}
              disabled={upload.isPending}
              aria-invalid={problem ? true : undefined}
              aria-describedby={problem ? `${problemId} ${hintId}` : hintId}
              onChange={(e) => choose(e.target.files?.[0])}
            />
            {problem && (
              <div id={problemId} className="invalid-feedback d-block" role="alert">
                {problem}
              </div>
            )}
            <div id={hintId} className="form-text">
              JPEG, PNG or WebP, up to {formatBytes(BANNER_MAX_BYTES)}; or drop the file here. Wide images work best (at least 1600 × 800 pixels): the edges may be cropped to fit.
            </div>
          </div>

          {chosen?.unreadable && (
            <div className="alert alert-warning mt-3 mb-0" role="alert">
              This file cannot be shown as an image: it may be damaged, or not really a JPEG, PNG or WebP. Please choose another.
            </div>
          )}

          {upload.isPending && (
            <div className="mt-3">
              <div className="progress" role="progressbar" aria-label="Banner upload" aria-valuenow={percent} aria-valuemin={0} aria-valuemax={100}>
                <div className="progress-bar" style={{ width: `${percent}%` }} />
              </div>
              <div className="d-flex justify-content-between align-items-center small mt-1" role="status">
                <span data-testid="banner-progress">
                  {sentAll ? 'Preparing the banner…' : `Uploading… ${formatBytes(progress?.loaded ?? 0)} of ${formatBytes(progress?.total ?? chosen?.file.size ?? 0)}`}
                </span>
                <button type="button" className="btn btn-sm btn-link" onClick={upload.cancel}>
                  Cancel upload
                </button>
              </div>
            </div>
          )}

          {upload.isError &&
            (isAbort(upload.error) ? (
              <p className="small text-secondary mt-3 mb-0" role="status">
                Upload cancelled.
              </p>
            ) : (
              <div className="alert alert-danger mt-3 mb-0" role="alert">
                {bannerErrorMessage(upload.error)}
              </div>
            ))}

          <div className="d-flex flex-wrap gap-2 mt-3">
            {chosen && !upload.isPending && (
              <>
                <button type="button" className="btn btn-primary" disabled={chosen.unreadable} onClick={() => start(chosen)}>
                  {event.bannerUrl ? 'Replace banner' : 'Upload banner'}
                </button>
                <button type="button" className="btn btn-outline-secondary" onClick={clear}>
                  Cancel
                </button>
              </>
            )}
            {!chosen && event.bannerUrl && (
              <button type="button" className="btn btn-outline-danger" onClick={removal.ask}>
                Remove banner
              </button>
            )}
          </div>
        </div>
      </div>

      <ConfirmChangeDialog {...removal.dialog} title="Remove the banner?" confirmLabel="Remove banner" cancelLabel="Keep banner">
        <p className="mb-0">Cards and the event page will show a generated cover instead. You can upload a banner again at any time.</p>
      </ConfirmChangeDialog>
    </section>
  );
}
