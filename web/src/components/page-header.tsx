import { useEffect, type ReactNode } from 'react';

/** The page's h1, and the document title to match (screen readers announce it on navigation). */
export function PageHeader({ title, subtitle, actions }: { title: string; subtitle?: ReactNode; actions?: ReactNode }) {
  useDocumentTitle(title);
  return (
    <div className="d-flex flex-wrap align-items-end justify-content-between gap-3 mb-4">
      <div>
        <h1 className="h2 fw-bold mb-1">{title}</h1>
        {subtitle && <p className="text-secondary mb-0">{subtitle}</p>}
      </div>
      {actions && <div className="d-flex flex-wrap gap-2">{actions}</div>}
    </div>
  );
}

export function useDocumentTitle(title: string) {
  useEffect(() => {
    document.title = `${title} · DEMS`;
  }, [title]);
}

export function EmptyState({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <div className="text-center py-5 px-3 bg-white rounded-4 shadow-sm">
      <p className="h5 fw-semibold">{title}</p>
      {children && <div className="text-secondary">{children}</div>}
    </div>
  );
}
