import { LOG_REDACT, runService } from '@dems/kit';
import { buildApp } from './app.js';
import { loadGatewayConfig } from './config.js';

await runService('gateway', async () => {
  const config = loadGatewayConfig();
  const app = await buildApp({ config, logger: { level: config.LOG_LEVEL, redact: LOG_REDACT } });
  return { app, port: config.GATEWAY_PORT, host: config.HOST, config };
});
