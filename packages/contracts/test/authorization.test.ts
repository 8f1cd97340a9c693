import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { AUTHORIZATION, authorizationTable, endpointName, GATEWAY_ROUTES } from '@dems/contracts';

describe('authorization matrix', () => {
  it('is shown in docs/security.md exactly as the data says', () => {
    const doc = readFileSync(new URL('../../../docs/security.md', import.meta.url), 'utf8');
    expect(doc).toContain(authorizationTable());
  });

  it('lists every endpoint once', () => {
    const names = AUTHORIZATION.map((r) => `${r.service} ${endpointName(r)}`);
    expect(new Set(names).size).toBe(names.length);
  });

  it('agrees with the gateway: /internal is service-only and never routed, API paths go to their owner', () => {
    for (const rule of AUTHORIZATION) {
      const route = GATEWAY_ROUTES.find((r) => rule.path === r.prefix || rule.path.startsWith(`${r.prefix}/`));
      if (rule.path.startsWith('/internal')) {
        expect(rule.access).toBe('service');
        expect(route).toBeUndefined();
      } else if (route) {
        expect(route.service, endpointName(rule)).toBe(rule.service);
      }
    }
  });
});
