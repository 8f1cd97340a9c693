import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MemoryOneTimeValues, SharedRedis, SharedState, type RedisLog } from '@dems/kit';
import { startRedisServer } from '../../../scripts/lib/redis.mjs';

// Shared state across "replicas": each SharedState is one replica's connection to one real redis-server.
let redis: Awaited<ReturnType<typeof startRedisServer>>;
const opened: SharedState[] = [];

beforeAll(async () => {
  // On a port the OS picks; the tests that stop it start it again on the same one, where the replicas reconnect.
  redis = await startRedisServer();
});
afterEach(async () => {
  await Promise.all(opened.splice(0).map((s) => s.close()));
});
afterAll(async () => {
  await redis?.stop();
});

/** A log that keeps what was said. */
function recordingLog(): RedisLog & { lines: { level: string; msg: string; obj: object }[] } {
  const lines: { level: string; msg: string; obj: object }[] = [];
  return { lines, info: (obj, msg) => lines.push({ level: 'info', msg, obj }), warn: (obj, msg) => lines.push({ level: 'warn', msg, obj }) };
}

async function replica(log: RedisLog = recordingLog(), graceMs?: number): Promise<SharedState> {
  const state = new SharedState(await SharedRedis.connect(redis.url, log, graceMs));
  opened.push(state);
  return state;
}

let seq = 0;
/** A throttle name no other test used, so counts never carry over. */
const fresh = (what: string) => `test:${what}:${Date.now()}:${seq++}`;

async function until(condition: () => boolean, what: string, withinMs = 15_000): Promise<void> {
  for (const end = Date.now() + withinMs; !condition();) {
    if (Date.now() > end) throw new Error(`not ${what} within ${withinMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const outcome = (p: Promise<unknown>) =>
  p.then(
    () => 'allowed',
    (err: { code?: string }) => err.code ?? String(err),
  );

describe('throttles shared through Redis', () => {
  it('give two replicas one count: the same total whichever replica each hit lands on', async () => {
    const [a, b] = [await replica(), await replica()];
    const name = fresh('purchases');
    const [ta, tb] = [a.throttle({ name, limit: 5, windowMs: 60_000 }), b.throttle({ name, limit: 5, windowMs: 60_000 })];
    // 12 parallel attempts, alternating replicas: exactly 5 get through.
    const outcomes = await Promise.all(Array.from({ length: 12 }, (_, i) => outcome((i % 2 ? ta : tb).take('user-1', 'You are buying too fast.'))));
    expect(outcomes.filter((o) => o === 'allowed')).toHaveLength(5);
    expect(outcomes.filter((o) => o === 'RATE_LIMITED')).toHaveLength(7);
    expect(await tb.count('user-1')).toBe(5);
    expect(await ta.retryAfter('user-1')).toBeGreaterThan(58);
    await expect(tb.take('user-1', 'You are buying too fast.')).rejects.toMatchObject({ code: 'RATE_LIMITED', headers: { 'retry-after': expect.stringMatching(/^(59|60)$/) } });
    // Another user, and another throttle of the same numbers, are untouched.
    await ta.take('user-2', 'You are buying too fast.');
    await a.throttle({ name: fresh('other'), limit: 5, windowMs: 60_000 }).take('user-1', 'x');
  });

  it('count each hit once, atomically: parallel hits on two replicas see distinct counts; undo and reset reach both', async () => {
    const [a, b] = [await replica(), await replica()];
    const name = fresh('login-failures');
    const [ta, tb] = [a.throttle({ name, limit: 100, windowMs: 60_000 }), b.throttle({ name, limit: 100, windowMs: 60_000 })];
    const counts = await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 ? ta : tb).hit('ada@example.com')));
    expect([...counts].sort((x, y) => x - y)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    await ta.undo('ada@example.com');
    expect(await tb.count('ada@example.com')).toBe(9);
    await tb.reset('ada@example.com');
    expect(await ta.count('ada@example.com')).toBe(0);
    // Undo of a key without hits gives no credit on any replica.
    await ta.undo('ada@example.com');
    expect(await tb.hit('ada@example.com')).toBe(1);
  });

  it('start a new window when the old one ends', async () => {
    const a = await replica();
    const t = a.throttle({ name: fresh('short'), limit: 1, windowMs: 1000 });
    await t.take('k', 'Slow down.');
    await expect(t.take('k', 'Slow down.')).rejects.toMatchObject({ code: 'RATE_LIMITED', headers: { 'retry-after': '1' } });
    await new Promise((r) => setTimeout(r, 1100));
    expect(await t.count('k')).toBe(0);
    await t.take('k', 'Slow down.');
  });
});

describe('one-time values shared through Redis', () => {
  it('a value used on one replica is refused on another; of parallel claims one wins; it is free again once expired', async () => {
    const [a, b, c] = [await replica(), await replica(), await replica()];
    const name = fresh('challenges');
    const [va, vb, vc] = [a.oneTimeValues(name), b.oneTimeValues(name), c.oneTimeValues(name)];
    expect(await va.claim('challenge-1', Date.now() + 60_000)).toBe(true);
    expect(await vb.claim('challenge-1', Date.now() + 60_000)).toBe(false);
    expect(await va.claim('challenge-1', Date.now() + 60_000)).toBe(false);

    const raced = await Promise.all(Array.from({ length: 10 }, (_, i) => [va, vb, vc][i % 3]!.claim('challenge-2', Date.now() + 60_000)));
    expect(raced.filter(Boolean)).toHaveLength(1);

    expect(await va.claim('challenge-3', Date.now() + 300)).toBe(true);
    await new Promise((r) => setTimeout(r, 400));
    // Expired in Redis (PXAT) and in memory alike.
    expect(await vc.claim('challenge-3', Date.now() + 60_000)).toBe(true);
  });

  it('in memory: each value once until it expires, forgotten by the next sweep (at most once a minute) after that', async () => {
    const clock = { now: 1_000_000 };
    const values = new MemoryOneTimeValues(() => clock.now);
    expect(await values.claim('a', clock.now + 300_000)).toBe(true); // the first claim sweeps: there was none before
    expect(await values.claim('a', clock.now + 300_000)).toBe(false);
    clock.now += 30_000;
    expect(await values.claim('b', clock.now + 40_000)).toBe(true); // no sweep: the last was 30 s ago
    clock.now += 30_000;
    expect(await values.claim('c', clock.now + 300_000)).toBe(true); // sweeps; a and b still valid
    expect(values.size).toBe(3);
    clock.now += 10_000; // b expires this very millisecond: claimable again, though not swept
    expect(await values.claim('b', clock.now + 10_000)).toBe(true);
    expect(values.size).toBe(3);
    clock.now += 60_000; // b expired again, and a sweep is due
    expect(await values.claim('d', clock.now + 1_000)).toBe(true);
    expect(values.size).toBe(3);
    expect(await values.claim('a', clock.now + 1_000)).toBe(false);
    clock.now = 1_000_000 + 300_000; // a expires this very millisecond
    expect(await values.claim('a', clock.now + 1_000)).toBe(true);
  });
});

describe('when Redis is unreachable', () => {
  it('fails open to each replica’s own count and says so once, then shares again when Redis is back', async () => {
    const log = recordingLog();
    const [a, b] = [await replica(log), await replica()];
    const name = fresh('sign-ups');
    const [ta, tb] = [a.throttle({ name, limit: 3, windowMs: 60_000 }), b.throttle({ name, limit: 3, windowMs: 60_000 })];
    const values = a.oneTimeValues(fresh('challenges'));
    await ta.take('10.0.0.1', 'Too many sign-ups.');

    await redis.stop();
    try {
      await until(() => !a.redis!.isReachable, 'seen as down', 5000);
      // Sign-ups keep working, each answered at once from this replica's memory, and its limit still holds there.
      const started = Date.now();
      const outcomes = [];
      for (let i = 0; i < 4; i++) outcomes.push(await outcome(ta.take('10.0.0.1', 'Too many sign-ups.')));
      expect(Date.now() - started).toBeLessThan(500);
      expect(outcomes).toEqual(['allowed', 'allowed', 'allowed', 'RATE_LIMITED']);
      expect(await values.claim('challenge', Date.now() + 60_000)).toBe(true);
      expect(await values.claim('challenge', Date.now() + 60_000)).toBe(false);
      const warnings = log.lines.filter((l) => l.level === 'warn');
      expect(warnings).toHaveLength(1);
      expect(warnings[0]!.msg).toMatch(/^Redis is unreachable: until it answers, rate limits and one-time values count in this replica only/);
      expect(warnings[0]!.obj).toMatchObject({ redis: redis.url });
    } finally {
      redis = await startRedisServer({ port: redis.port });
    }
    await until(() => a.redis!.isReachable && b.redis!.isReachable, 'reconnected');
    expect(log.lines.at(-1)).toMatchObject({ level: 'info', msg: expect.stringMatching(/^Redis answers again/) });
    // Shared again: the restarted Redis starts from zero, and both replicas count into it.
    await ta.take('10.0.0.9', 'Too many sign-ups.');
    await tb.take('10.0.0.9', 'Too many sign-ups.');
    expect(await ta.count('10.0.0.9')).toBe(2);
  });

  it('bounds the wait on a Redis that stopped answering to the command timeout, then stops asking until it answers a ping', async () => {
    const log = recordingLog();
    const a = await replica(log);
    const t = a.throttle({ name: fresh('hung'), limit: 10, windowMs: 60_000 });
    await t.hit('k');
    redis.child.kill('SIGSTOP');
    try {
      const started = Date.now();
      expect(await t.hit('k')).toBe(1); // this replica's own count: the shared one could not be read
      expect(Date.now() - started).toBeLessThan(1800);
      // The keep-alive ping (every 5 s) finds it silent; from then on there is nothing to wait out.
      await until(() => !a.redis!.isReachable, 'seen as silent', 10_000);
      const quick = Date.now();
      await t.hit('k');
      expect(Date.now() - quick).toBeLessThan(100);
      expect(log.lines.filter((l) => l.level === 'warn')).toHaveLength(1);
    } finally {
      redis.child.kill('SIGCONT');
    }
    await until(() => a.redis!.isReachable, 'answering again', 10_000);
    // Shared again: the first hit, the one that timed out (Redis ran it when it resumed), and this one.
    expect(await t.hit('k')).toBe(3);
    expect(log.lines.at(-1)).toMatchObject({ level: 'info', msg: expect.stringMatching(/^Redis answers again/) });
  });

  it('a start with Redis away serves from memory, warns, and connects when Redis comes', async () => {
    await redis.stop();
    const log = recordingLog();
    let a: SharedState;
    try {
      a = await replica(log, 300);
      expect(a.redis!.isReachable).toBe(false);
      expect(log.lines).toEqual([expect.objectContaining({ level: 'warn', msg: expect.stringMatching(/^Redis is unreachable/) })]);
      await a.throttle({ name: fresh('x'), limit: 1, windowMs: 60_000 }).take('k', 'Slow down.');
    } finally {
      redis = await startRedisServer({ port: redis.port });
    }
    await until(() => a.redis!.isReachable, 'connected');
    expect(log.lines.at(-1)).toMatchObject({ level: 'info', msg: expect.stringMatching(/^Redis answers again/) });
  });
});

describe('without REDIS_URL', () => {
  it('keeps state in this process: no Redis, and nothing to close', async () => {
    const state = await SharedState.open(undefined, recordingLog());
    expect(state.redis).toBeUndefined();
    const t = state.throttle({ name: 'test:local', limit: 1, windowMs: 60_000 });
    await t.take('k', 'Slow down.');
    await expect(t.take('k', 'Slow down.')).rejects.toMatchObject({ code: 'RATE_LIMITED' });
    const values = state.oneTimeValues('test:local');
    expect(await values.claim('v', Date.now() + 1000)).toBe(true);
    expect(await values.claim('v', Date.now() + 1000)).toBe(false);
    await state.close();
  });
});
