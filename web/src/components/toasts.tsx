import { createContext, useCallback, useContext, useMemo, useRef, useState, type ReactNode } from 'react';
import { Link } from 'react-router';

export interface ToastInput {
  title: string;
  body?: string;
  tone?: 'info' | 'success' | 'danger';
  href?: string;
}
interface ToastItem extends ToastInput {
  id: number;
}

const ToastContext = createContext<(t: ToastInput) => void>(() => {});
const ToastListContext = createContext<{ toasts: ToastItem[]; dismiss: (id: number) => void }>({ toasts: [], dismiss: () => {} });

/** Toasts saying the same thing are one toast: a second while the first is shown adds nothing, it keeps it up longer. */
const sameToast = (a: ToastInput, b: ToastInput) => a.title === b.title && a.body === b.body && a.href === b.href && a.tone === b.tone;

/**
 * Holds the toasts. It sits above the router (so anything may raise one); <ToastViewport/> draws them
 * inside the router, where their links work.
 */
export function ToastProvider({ children, durationMs = 8000 }: { children: ReactNode; durationMs?: number }) {
  const [toasts, setToasts] = useState<ToastItem[]>([]);
  const shown = useRef<ToastItem[]>([]);
  const timers = useRef(new Map<number, ReturnType<typeof setTimeout>>());
  const nextId = useRef(1);
  const update = useCallback((next: ToastItem[]) => {
    shown.current = next;
    setToasts(next);
  }, []);
  const dismiss = useCallback(
    (id: number) => {
      clearTimeout(timers.current.get(id));
      timers.current.delete(id);
      update(shown.current.filter((t) => t.id !== id));
    },
    [update],
  );
  const show = useCallback(
    (t: ToastInput) => {
      const twin = shown.current.find((s) => sameToast(s, t));
      const id = twin?.id ?? nextId.current++;
      if (!twin) update([...shown.current.slice(-3), { ...t, id }]);
      clearTimeout(timers.current.get(id));
      timers.current.set(
        id,
        setTimeout(() => dismiss(id), durationMs),
      );
    },
    [dismiss, update, durationMs],
  );
  const list = useMemo(() => ({ toasts, dismiss }), [toasts, dismiss]);
  return (
    <ToastContext.Provider value={show}>
      <ToastListContext.Provider value={list}>{children}</ToastListContext.Provider>
    </ToastContext.Provider>
  );
}

/**
 * Toasts in a polite live region, so screen readers announce them without stealing focus. At the bottom corner
 * on wide screens; on phones under the navbar (styles.css), clear of the buy bar and buttons at the bottom.
 */
export function ToastViewport() {
  const { toasts, dismiss } = useContext(ToastListContext);
  return (
    <div className="toast-container app-toasts position-fixed p-3" role="status" aria-live="polite">
      {toasts.map((t) => (
        <div key={t.id} className={`toast show border-0 shadow app-toast app-toast-${t.tone ?? 'info'}`} data-testid="toast">
          <div className="toast-header">
            <span className="app-toast-dot me-2" aria-hidden="true" />
            <strong className="me-auto">{t.title}</strong>
            <button type="button" className="btn-close" aria-label="Dismiss notification" onClick={() => dismiss(t.id)} />
          </div>
          {(t.body || t.href) && (
            <div className="toast-body">
              {t.body}
              {t.href && (
                <div className="mt-1">
                  <Link to={t.href} onClick={() => dismiss(t.id)}>
                    View
                  </Link>
                </div>
              )}
            </div>
          )}
        </div>
      ))}
    </div>
  );
}

export const useToast = () => useContext(ToastContext);
