/** Where to go after logging in: only a path inside this app, never another site. */
export function safeNext(next: string | null): string {
  if (!next || !next.startsWith('/') || next.startsWith('//')) return '/';
  return next;
}

/** The sign-in or sign-up page, told to return to `next` afterwards (the home page needs no telling). */
export function authPath(page: '/signin' | '/signup', next: string): string {
  return next === '/' ? page : `${page}?next=${encodeURIComponent(next)}`;
}

/**
 * Where signing in from the page at `pathname` + `search` should return: that page, or, on the sign-in and
 * sign-up pages themselves, wherever they were already told to return.
 */
export function returnPathFrom(pathname: string, search: string): string {
  if (pathname === '/signin' || pathname === '/signup') return safeNext(new URLSearchParams(search).get('next'));
  return `${pathname}${search}`;
}
