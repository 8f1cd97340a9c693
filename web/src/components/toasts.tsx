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

/**
 * Holds the toasts. It sits above the router (so anything may raise one); <ToastViewport/> draws them
 * inside the router, where their links work.
 */
export function ToastProvider({ children, durationMs = 8000 }: { children: ReactNode; durationMs?: number }) {
  const [toasts, setToasts] = useState<ToastItem[]>([]);
  const nextId = useRef(1);
  const dismiss = useCallback((id: number) => setToasts((all) => all.filter((t) => t.id !== id)), []);
  const show = useCallback(
    (t: ToastInput) => {
      const id = nextId.current++;
      setToasts((all) => [...all.slice(-3), { ...t, id }]);
      setTimeout(() => dismiss(id), durationMs);
    },
    [dismiss, durationMs],
  );
  const list = useMemo(() => ({ toasts, dismiss }), [toasts, dismiss]);
  return (
    <ToastContext.Provider value={show}>
      <ToastListContext.Provider value={list}>{children}</ToastListContext.Provider>
    </ToastContext.Provider>
  );
}

/** Toasts in a polite live region, so screen readers announce them without stealing focus. */
export function ToastViewport() {
  const { toasts, dismiss } = useContext(ToastListContext);
  return (
    <div className="toast-container position-fixed bottom-0 end-0 p-3" role="status" aria-live="polite">
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
