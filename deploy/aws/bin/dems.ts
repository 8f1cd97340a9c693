import { App } from 'aws-cdk-lib';
import { DemsStack } from '../lib/dems-stack.js';
import { readSettings, SettingsError } from '../lib/settings.js';

/** The CDK app: one stack, `Dems`, configured by context (see lib/settings.ts). Run through app.mjs. */
const app = new App();
try {
  new DemsStack(
    app,
    'Dems',
    readSettings((key) => app.node.tryGetContext(key)),
  );
  app.synth();
} catch (err) {
  if (!(err instanceof SettingsError)) throw err;
  console.error(`✖ ${err.message}`);
  // Not process.exit(): app.mjs still removes its bundle on the way out.
  process.exitCode = 1;
}
