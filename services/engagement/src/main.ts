// The process entry. Tracing patches modules (http, the AWS SDK) as they load, so it starts before anything else
// is imported; the service itself is serve.ts, imported after it (scripts/build.mjs keeps that import separate).
import { startTracing } from '@dems/kit/tracing';

await startTracing('engagement');
await import('./serve.js');
