import { useEffect, useId, useRef, useState, type ReactNode } from 'react';
import { ErrorAlert } from './error-alert';
import { useToast } from './toasts';

interface ConfirmDialogProps {
  open: boolean;
  title: string;
  children: ReactNode;
  confirmLabel: string;
  cancelLabel?: string;
  danger?: boolean;
  pending?: boolean;
  onConfirm: () => void;
  onCancel: () => void;
}

/**
 * A Bootstrap-styled modal driven by React state (no Bootstrap JS): focus moves into it, Escape and the
 * backdrop cancel, Tab stays inside, and focus returns to what opened it.
 */
export function ConfirmDialog({ open, title, children, confirmLabel, cancelLabel = 'Keep it', danger = false, pending = false, onConfirm, onCancel }: ConfirmDialogProps) {
  const titleId = useId();
  const dialogRef = useRef<HTMLDivElement>(null);
  const cancelRef = useRef<HTMLButtonElement>(null);

  useEffect(() => {
    if (!open) return;
    const opener = document.activeElement as HTMLElement | null;
    cancelRef.current?.focus();
    document.body.classList.add('modal-open');
    return () => {
      document.body.classList.remove('modal-open');
      opener?.focus();
    };
  }, [open]);

  if (!open) return null;

  const onKeyDown = (e: React.KeyboardEvent) => {
    if (e.key === 'Escape') {
      e.stopPropagation();
      onCancel();
      return;
    }
    if (e.key !== 'Tab' || !dialogRef.current) return;
    const focusable = dialogRef.current.querySelectorAll<HTMLElement>('button:not([disabled])');
    const first = focusable[0];
    const last = focusable[focusable.length - 1];
    if (e.shiftKey && document.activeElement === first) {
      e.preventDefault();
      last?.focus();
    } else if (!e.shiftKey && document.activeElement === last) {
      e.preventDefault();
      first?.focus();
    }
  };

  return (
    <>
      {/* eslint-disable-next-line jsx-a11y/no-noninteractive-element-interactions -- a click on the backdrop (outside the dialog box) is the mouse's Cancel; the keyboard has Escape and the Cancel button. */}
      <div className="modal d-block" role="dialog" aria-modal="true" aria-labelledby={titleId} onKeyDown={onKeyDown} onClick={(e) => e.target === e.currentTarget && onCancel()}>
        <div className="modal-dialog modal-dialog-centered" ref={dialogRef}>
          <div className="modal-content shadow">
            <div className="modal-header">
              <h2 className="modal-title fs-5" id={titleId}>
                {title}
              </h2>
              <button type="button" className="btn-close" aria-label="Close" onClick={onCancel} />
            </div>
            <div className="modal-body">{children}</div>
            <div className="modal-footer">
              <button type="button" className="btn btn-outline-secondary" onClick={onCancel} ref={cancelRef}>
                {cancelLabel}
              </button>
              <button type="button" className={`btn ${danger ? 'btn-danger' : 'btn-primary'}`} onClick={onConfirm} disabled={pending}>
                {pending && <span className="spinner-border spinner-border-sm me-2" aria-hidden="true" />}
                {confirmLabel}
              </button>
            </div>
          </div>
        </div>
      </div>
      <div className="modal-backdrop show" />
    </>
  );
}

/** A change the dialog confirms: a TanStack mutation that takes no input. */
interface ConfirmedChange {
  isPending: boolean;
  isError: boolean;
  error: unknown;
  mutate: (input: undefined, options: { onSuccess: () => void }) => void;
  reset: () => void;
}

interface ConfirmChangeDialogProps extends Omit<ConfirmDialogProps, 'pending' | 'onConfirm' | 'onCancel'> {
  change: ConfirmedChange;
  /** Closes the dialog (the caller owns `open`). */
  onClose: () => void;
  /** After the change succeeded and the dialog closed: say so (a toast). */
  onDone: () => void;
}

/**
 * A confirm dialog that runs one change: pending while it runs, its error inside the dialog, closed on success.
 * Cancelling forgets a failed attempt, so reopening starts clean.
 */
export function ConfirmChangeDialog({ change, onClose, onDone, children, ...dialog }: ConfirmChangeDialogProps) {
  return (
    <ConfirmDialog
      {...dialog}
      pending={change.isPending}
      onCancel={() => {
        onClose();
        change.reset();
      }}
      onConfirm={() =>
        change.mutate(undefined, {
          onSuccess: () => {
            onClose();
            onDone();
          },
        })
      }
    >
      {children}
      {change.isError && <ErrorAlert className="mt-3 mb-0" error={change.error} />}
    </ConfirmDialog>
  );
}

/**
 * One change that asks first, as the organizer's irreversible actions do (cancel an event, remove a banner, turn
 * off a waiting room): `ask` opens the dialog, spread `dialog` into a ConfirmChangeDialog, and once the change is
 * done a toast says `done`. The dialog is kept apart from the button that asks because a done change often
 * hides that button (a removed banner has no Remove button), and the dialog must still close and say so.
 */
export function useConfirmedChange(change: ConfirmedChange, done: { title: string; body: string }) {
  const [open, setOpen] = useState(false);
  const toast = useToast();
  return {
    ask: () => setOpen(true),
    dialog: { open, change, danger: true, onClose: () => setOpen(false), onDone: () => toast({ ...done, tone: 'info' }) },
  };
}
