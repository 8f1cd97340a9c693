export * from './errors.js';
export * from './common.js';
export * from './engagement.js';
export * from './events.js';
export * from './ticketing.js';
export * from './messages.js';
export * from './routes.js';
export * from './authorization.js';
