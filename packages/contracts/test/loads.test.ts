import { describe, expect, it } from 'vitest';

/**
 * The contracts are module-level values: a schema or table that cannot be built makes every importer fail to
 * load, before any of its tests runs. Importing here, inside a test, turns that into a failing test.
 */
describe('the contracts package', () => {
  it('loads, with its schemas and tables built', async () => {
    const contracts = await import('@dems/contracts');
    expect(contracts.CreateEventBody.safeParse({}).success).toBe(false);
    expect(contracts.LiveAuthenticateResult.safeParse({ ok: false, code: 'X', message: 'Y' }).success).toBe(true);
    expect(
      contracts.AUTHORIZATION.filter((r) => r.path === '/healthz')
        .map((r) => r.service)
        .sort(),
    ).toEqual(['engagement', 'events', 'ticketing']);
  });
});
