import type { z } from 'zod';

/** The first message for each field path ("title", "ticketTypes.0.capacity") of a failed zod parse. */
export function issuesByPath(error: z.ZodError, friendly: (issue: z.core.$ZodIssue, path: string) => string = (i) => i.message): Record<string, string> {
  const out: Record<string, string> = {};
  for (const issue of error.issues) {
    const path = issue.path.map(String).join('.');
    out[path] ??= friendly(issue, path);
  }
  return out;
}
