import { errorMessage, supportReference, type ErrorContext } from '@/lib/error-messages';

/** An error as a plain sentence, with a retry button when the caller can retry and a reference when support may need it. */
export function ErrorAlert({ error, onRetry, context, className = '' }: { error: unknown; onRetry?: () => void; context?: ErrorContext; className?: string }) {
  if (!error) return null;
  const requestId = supportReference(error);
  return (
    <div className={`alert alert-danger d-flex flex-wrap align-items-center gap-2 ${className}`} role="alert">
      <span className="flex-grow-1">{errorMessage(error, context)}</span>
      {requestId && <small className="text-danger-emphasis">Reference: {requestId}</small>}
      {onRetry && (
        <button type="button" className="btn btn-sm btn-outline-danger" onClick={onRetry}>
          Try again
        </button>
      )}
    </div>
  );
}
