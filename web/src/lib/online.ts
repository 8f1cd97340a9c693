import { useSyncExternalStore } from 'react';
import { onlineManager } from '@tanstack/react-query';

/**
 * Whether the browser says it has a network connection, as TanStack Query sees it: while it says no, reads are
 * paused (not failed) and start by themselves when the connection returns, so a page waiting on one must say so.
 */
export function useOnline(): boolean {
  return useSyncExternalStore(
    (onChange) => onlineManager.subscribe(onChange),
    () => onlineManager.isOnline(),
    () => true,
  );
}
