/**
 * Run as a separate OS process by store.test.ts: registers a batch of users for one event on a shared
 * SQLite file, starting at an agreed instant so the processes really contend for the write lock.
 */
import { AppError } from '@dems/kit';
import { SqliteEventsStore } from '../src/store/sqlite.js';
import { registerForEvent } from '../src/use-cases/register-for-event.js';

const [file, eventId, prefix, count, startAt] = process.argv.slice(2) as [string, string, string, string, string];
const store = new SqliteEventsStore({ file, synchronous: 'NORMAL' });
while (Date.now() < Number(startAt)) {
  /* wait for the agreed start */
}
const results: string[] = [];
for (let i = 0; i < Number(count); i++) {
  try {
    const { created } = await registerForEvent(store, eventId, { id: `${prefix}_${i}`, name: `User ${i}`, email: `${prefix}${i}@example.com` }, new Date());
    results.push(created ? 'created' : 'existing');
  } catch (err) {
    results.push(err instanceof AppError ? err.code : `error: ${String(err)}`);
  }
}
await store.close();
process.stdout.write(JSON.stringify(results));
