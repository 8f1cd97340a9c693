// The supervisor of `npm start` (scripts/lib/supervisor.mjs) on small real processes: each "service" here is a
// `node -e` child that prints, lives a while and exits, so every restart, pause and report is the real thing.
import { spawn } from 'node:child_process';
import { mkdtempSync, openSync, closeSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Supervisor } from '../../scripts/lib/supervisor.mjs';

const dir = mkdtempSync(join(tmpdir(), 'dems-supervisor-'));
const supervisors: Supervisor[] = [];
afterEach(() => supervisors.splice(0).forEach((s) => s.stop()));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

/** A child that prints `say`, then exits with `code` after `lifeMs`; its output goes to `logFile` when given, else to a pipe. */
function child({ lifeMs = 30, code = 1, say = 'hello', logFile }: { lifeMs?: number; code?: number; say?: string; logFile?: string }) {
  const fd = logFile ? openSync(logFile, 'a') : 'pipe';
  const proc = spawn(process.execPath, ['-e', `console.log(${JSON.stringify(say)}); setTimeout(() => process.exit(${code}), ${lifeMs})`], {
    stdio: ['ignore', fd, fd],
  });
  if (typeof fd === 'number') closeSync(fd);
  return { child: proc, logFile };
}

function watchWith(policy: Record<string, number>) {
  const said: string[] = [];
  const warned: string[] = [];
  const gaveUp: { instance: string; reason: string; report: string }[] = [];
  const supervisor = new Supervisor({
    policy,
    say: (l: string) => said.push(l),
    warn: (l: string) => warned.push(l),
    onGiveUp: (g: { instance: string; reason: string; report: string }) => gaveUp.push(g),
  });
  supervisors.push(supervisor);
  return { supervisor, said, warned, gaveUp };
}

async function until(check: () => boolean, timeoutMs = 10_000, what = 'condition') {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const quick = { firstDelayMs: 50, maxDelayMs: 200, healthyAfterMs: 60_000, crashLimit: 100, crashWindowMs: 60_000, failedStartLimit: 3 };

describe('supervisor', () => {
  it('restarts a process that exits, after a pause that doubles up to the cap, and says which, how, its log and when', async () => {
    const logFile = join(dir, 'events.log');
    const { supervisor, said, warned } = watchWith(quick);
    const exits: number[] = [];
    const starts: number[] = [];
    const first = child({ logFile, code: 3 });
    first.child.once('exit', () => exits.push(Date.now()));
    supervisor.watch('events', first, async () => {
      starts.push(Date.now());
      const next = child({ logFile, code: 3 });
      next.child.once('exit', () => exits.push(Date.now()));
      return next;
    });
    await until(() => starts.length >= 4, 10_000, 'four restarts');
    supervisor.stop();

    expect(warned.slice(0, 4).map((l) => l.match(/in ([\d.]+) s/)?.[1])).toEqual(['0.05', '0.1', '0.2', '0.2']);
    expect(warned[0]).toMatch(
      new RegExp(
        `^✖ events \\(pid ${first.child.pid}\\) exited with code 3; log: ${logFile}\\. Restarting it in 0\\.05 s \\(at \\d\\d:\\d\\d:\\d\\d\\); the others keep serving\\.$`,
      ),
    );
    // Each start came no sooner than its announced pause after the exit before it.
    const pauses = [50, 100, 200, 200];
    starts.slice(0, 4).forEach((at, i) => expect(at - exits[i]!).toBeGreaterThanOrEqual(pauses[i]! - 5));
    expect(said[0]).toMatch(/^✔ events is running again \(pid \d+, restart 1\)\.$/);
    expect(said[1]).toMatch(/restart 2\)\.$/);
  });

  it('a process killed by a signal is reported with the signal', async () => {
    const { supervisor, warned, said } = watchWith(quick);
    const first = child({ lifeMs: 60_000, logFile: join(dir, 'gateway.log') });
    supervisor.watch('gateway', first, async () => child({ lifeMs: 60_000 }));
    first.child.kill('SIGKILL');
    await until(() => said.length === 1, 5000, 'the restart');
    expect(warned[0]).toMatch(/^✖ gateway \(pid \d+\) was killed by SIGKILL; log: /);
  });

  it('the pause starts over at the first one once the process had run for healthyAfterMs', async () => {
    const { supervisor, warned } = watchWith({ ...quick, healthyAfterMs: 400 });
    const lives = [30, 30, 700, 30];
    let n = 0;
    supervisor.watch('ticketing', child({ lifeMs: 30 }), async () => child({ lifeMs: lives[n++] ?? 60_000 }));
    await until(() => warned.length >= 4, 10_000, 'four crashes');
    // 0.05 → 0.1 → 0.2; then the process ran 700 ms (healthy): back to 0.05.
    expect(warned.slice(0, 4).map((l) => l.match(/in ([\d.]+) s/)?.[1])).toEqual(['0.05', '0.1', '0.2', '0.05']);
  });

  it('crashLimit crashes within the window is a crash loop: it gives up once, with the end of the log, and restarts nothing more', async () => {
    const logFile = join(dir, 'engagement.log');
    const { supervisor, warned, gaveUp } = watchWith({ ...quick, crashLimit: 4, firstDelayMs: 20 });
    let starts = 0;
    supervisor.watch('engagement', child({ logFile, say: 'boot 0' }), async () => child({ logFile, say: `boot ${++starts}` }));
    await until(() => gaveUp.length > 0, 10_000, 'the give-up');
    await new Promise((r) => setTimeout(r, 300));

    expect(starts).toBe(3);
    expect(gaveUp).toHaveLength(1);
    expect(gaveUp[0]!.instance).toBe('engagement');
    expect(gaveUp[0]!.reason).toBe('exited with code 1: that is 4 crashes within 60 s');
    expect(gaveUp[0]!.report).toContain(
      `✖ engagement exited with code 1: that is 4 crashes within 60 s. Stopping everything.\n  The end of its log, ${logFile}:\n  │ boot 0\n  │ boot 1\n  │ boot 2\n  │ boot 3`,
    );
    expect(warned.at(-1)).toBe(gaveUp[0]!.report);
    expect(supervisor.stopped).toBe(true);
  });

  it('crashes older than the window do not count', async () => {
    const { supervisor, gaveUp, said } = watchWith({ ...quick, crashLimit: 3, crashWindowMs: 150, firstDelayMs: 200, maxDelayMs: 200 });
    supervisor.watch('events-2', child({}), async () => child({}));
    // Crashes 250 ms apart (30 ms life + 200 ms pause) never reach 3 within 150 ms.
    await until(() => said.length >= 4, 10_000, 'four restarts');
    expect(gaveUp).toEqual([]);
  });

  it('restarts that never come up: gives up after failedStartLimit in a row, naming the last failure', async () => {
    const logFile = join(dir, 'engagement-2.log');
    const { warned, gaveUp, supervisor } = watchWith({ ...quick, failedStartLimit: 3 });
    let attempts = 0;
    supervisor.watch('engagement-2', child({ logFile, say: 'first run' }), async () => {
      attempts++;
      const failing = child({ logFile, say: `Invalid configuration: JWT_SIGNING_KEY (attempt ${attempts})`, code: 78, lifeMs: 0 });
      await new Promise((r) => failing.child.once('exit', r));
      throw new Error(`engagement exited during start-up (code 78).\nInvalid configuration: …`);
    });
    await until(() => gaveUp.length > 0, 10_000, 'the give-up');

    expect(attempts).toBe(3);
    expect(warned[1]).toMatch(/^✖ engagement-2 did not start: engagement exited during start-up \(code 78\); log: .*engagement-2\.log\. Restarting it in 0\.1 s/);
    expect(gaveUp[0]!.reason).toBe('did not start 3 times in a row (last: engagement exited during start-up (code 78))');
    expect(gaveUp[0]!.report).toContain('│ Invalid configuration: JWT_SIGNING_KEY (attempt 3)');
  });

  it('a start that succeeds resets the count of failed starts', async () => {
    const { gaveUp, said, supervisor } = watchWith({ ...quick, failedStartLimit: 2 });
    let attempts = 0;
    // fail, succeed (and crash), fail, succeed …: never two failures in a row.
    supervisor.watch('events', child({}), async () => {
      if (++attempts % 2 === 1) throw new Error('did not answer /healthz');
      return child({});
    });
    await until(() => said.length >= 3, 10_000, 'three successful restarts');
    expect(gaveUp).toEqual([]);
  });

  it('a process without a log file: the report quotes what it printed', async () => {
    const { supervisor, gaveUp } = watchWith({ ...quick, crashLimit: 2, firstDelayMs: 10 });
    supervisor.watch('redis', child({ say: '# Warning: no config file' }), async () => child({ say: '# Fatal: Address already in use' }));
    await until(() => gaveUp.length > 0, 10_000, 'the give-up');
    expect(gaveUp[0]!.report).toContain('The last it printed:\n  │ # Fatal: Address already in use');
  });

  it('after stop(), an exit is expected: nothing is restarted, a pending restart is cancelled', async () => {
    const { supervisor, warned, said } = watchWith({ ...quick, firstDelayMs: 200 });
    let starts = 0;
    const a = child({ lifeMs: 60_000 });
    supervisor.watch('events', child({ lifeMs: 10 }), async () => (starts++, child({})));
    supervisor.watch('ticketing', a, async () => (starts++, child({})));
    await until(() => warned.length === 1, 5000, 'the crash of events');
    supervisor.stop();
    a.child.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 400));
    expect(starts).toBe(0);
    expect(warned).toHaveLength(1);
    expect(said).toEqual([]);
  });
});
