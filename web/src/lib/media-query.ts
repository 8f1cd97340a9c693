import { useCallback, useSyncExternalStore } from 'react';

/** Bootstrap's `lg` breakpoint: from here up the navbar is laid out in one row instead of a phone menu. */
export const WIDE_SCREEN = '(min-width: 992px)';

/**
 * Whether the screen matches a CSS media query now, kept in step as it changes (a phone turned, a window
 * resized). False where media queries cannot be asked (tests without a layout engine).
 */
export function useMediaQuery(query: string): boolean {
  const subscribe = useCallback(
    (onChange: () => void) => {
      if (typeof window.matchMedia !== 'function') return () => {};
      const list = window.matchMedia(query);
      list.addEventListener('change', onChange);
      return () => list.removeEventListener('change', onChange);
    },
    [query],
  );
  const matches = () => typeof window.matchMedia === 'function' && window.matchMedia(query).matches;
  return useSyncExternalStore(subscribe, matches, () => false);
}
