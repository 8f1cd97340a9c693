// Comma-separated settings (TRUST_PROXY, CORS_ORIGINS, LIVE_ALLOWED_ORIGINS): what a person types, as the list meant.
import { describe, expect, it } from 'vitest';
import { BaseConfig, commaList, splitList } from '../src/config.js';

describe('comma-separated settings', () => {
  it('trims each item and drops empty ones, as people type lists', () => {
    expect(splitList(' 10.0.0.1, 10.0.0.0/8,,  ::1 ,')).toEqual(['10.0.0.1', '10.0.0.0/8', '::1']);
    expect(splitList('')).toEqual([]);
    expect(splitList(' , ')).toEqual([]);
  });

  it('takes the fallback when the setting is unset, and none when it is set empty', () => {
    expect(commaList('loopback').parse(undefined)).toEqual(['loopback']);
    expect(commaList('loopback').parse('')).toEqual([]);
    expect(commaList().parse(undefined)).toEqual([]);
    const secret = { SERVICE_SECRET: 'config-lists-test-secret' };
    expect(BaseConfig.parse(secret).TRUST_PROXY).toEqual(['loopback']);
    expect(BaseConfig.parse({ ...secret, TRUST_PROXY: '10.0.0.2, 10.0.0.3' }).TRUST_PROXY).toEqual(['10.0.0.2', '10.0.0.3']);
  });
});
