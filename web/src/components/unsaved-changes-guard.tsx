import { useEffect } from 'react';
import { useBlocker } from 'react-router';
import { ConfirmDialog } from './confirm-dialog';

/**
 * Asks before a form with unsaved changes is left: in-app navigation (a link, Back, the browser's back button)
 * waits for "Leave without saving" or "Keep editing"; a reload or closing the tab gets the browser's own question
 * (browsers show only their own words there). `unsaved` is read when the navigation happens, so a form that has
 * just saved can say so in the same tick it navigates away.
 */
export function UnsavedChangesGuard({ unsaved, what = 'your changes' }: { unsaved: () => boolean; what?: string }) {
  // Only a move to another page asks; a change of the query string or hash on the same page keeps the form.
  const blocker = useBlocker(({ currentLocation, nextLocation }) => currentLocation.pathname !== nextLocation.pathname && unsaved());

  // Listening only while there is something to lose: a beforeunload listener keeps the browser from caching the page.
  // `unsaved` is a new function on every render of the form, so this follows each change.
  useEffect(() => {
    if (!unsaved()) return;
    const onBeforeUnload = (e: BeforeUnloadEvent) => {
      if (!unsaved()) return;
      e.preventDefault();
      // Older browsers ask only when returnValue is set.
      e.returnValue = '';
    };
    window.addEventListener('beforeunload', onBeforeUnload);
    return () => window.removeEventListener('beforeunload', onBeforeUnload);
  }, [unsaved]);

  return (
    <ConfirmDialog
      open={blocker.state === 'blocked'}
      title="Leave without saving?"
      confirmLabel="Leave without saving"
      cancelLabel="Keep editing"
      danger
      onConfirm={() => blocker.proceed?.()}
      onCancel={() => blocker.reset?.()}
    >
      You have not saved {what}. If you leave this page now, they are lost.
    </ConfirmDialog>
  );
}
