import { describe, expect, it } from 'vitest';
import { DEFAULT_PORTS } from '@dems/contracts';
import { ConfigError, loadConfig, ProcessConfig } from '@dems/kit';
import { GatewayConfig, loadGatewayConfig } from '../src/config.js';

describe('gateway configuration', () => {
  it('reads every setting a process shares exactly as the services do (ProcessConfig), not a copy of its own', () => {
    const env = {
      HOST: '0.0.0.0',
      DATA_DIR: '/var/lib/dems',
      LOG_LEVEL: 'warn',
      AWS_REGION: 'eu-west-1',
      BODY_LIMIT_BYTES: '20000',
      EVENTS_URL: 'http://events-a:3001,http://events-b:3001',
      SHUTDOWN_DRAIN_SECONDS: '5',
      MAX_QUEUE_DELAY_MS: '250',
    };
    const gateway = loadGatewayConfig(env);
    const shared = loadConfig(ProcessConfig, env);
    for (const name of Object.keys(ProcessConfig.shape) as (keyof ProcessConfig)[]) expect(gateway[name], name).toEqual(shared[name]);
    expect(gateway.EVENTS_URL).toEqual(['http://events-a:3001', 'http://events-b:3001']);
    expect(gateway.BODY_LIMIT_BYTES).toBe(20_000);
  });

  it('listens on the default gateway port and reaches the services on theirs when nothing is set', () => {
    const config = loadGatewayConfig({});
    expect(config.GATEWAY_PORT).toBe(DEFAULT_PORTS.gateway);
    expect(config.EVENTS_URL).toEqual([`http://127.0.0.1:${DEFAULT_PORTS.events}`]);
    expect(config.TICKETING_URL).toEqual([`http://127.0.0.1:${DEFAULT_PORTS.ticketing}`]);
    expect(config.ENGAGEMENT_URL).toEqual([`http://127.0.0.1:${DEFAULT_PORTS.engagement}`]);
  });

  it('refuses a bad shared setting with the same message a service gives', () => {
    expect(() => loadGatewayConfig({ LOG_LEVEL: 'loud' })).toThrow(ConfigError);
    expect(() => loadGatewayConfig({ BODY_LIMIT_BYTES: '10' })).toThrow(/BODY_LIMIT_BYTES \("10"\)/);
  });

  it('has no service secret: a gateway never signs or verifies service-to-service calls', () => {
    expect(Object.keys(GatewayConfig.shape)).not.toContain('SERVICE_SECRET');
  });
});
