// Timeouts of the test run. The globals in vitest.config.ts are modest, so that a hung ordinary test fails in
// seconds; what is slow by nature says so where it is, with one of these.

/**
 * A test on DynamoDB Local: one Java process on the same two cores as the services and the other test files
 * running beside it, where a burst of purchases takes seconds that SQLite does in milliseconds.
 */
export const DYNAMODB_TEST_TIMEOUT_MS = 60_000;
