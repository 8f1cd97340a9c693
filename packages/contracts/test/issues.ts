import { expect } from 'vitest';
import type { z } from 'zod';

/** Parses a value that must be refused and returns its issues' paths (`a.0.b`, each once): which fields were refused. */
export function refusedPaths(schema: z.ZodType, value: unknown): string[] {
  const result = schema.safeParse(value);
  expect(result.success, `expected ${JSON.stringify(value)} to be refused`).toBe(false);
  return [...new Set(result.error!.issues.map((i) => i.path.join('.')))];
}

/** Parses a value that must be refused and returns its issues as `path: message`, as a client is told them. */
export function refusals(schema: z.ZodType, value: unknown): string[] {
  const result = schema.safeParse(value);
  expect(result.success, `expected ${JSON.stringify(value)} to be refused`).toBe(false);
  return result.error!.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
}
