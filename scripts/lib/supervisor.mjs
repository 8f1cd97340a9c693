// The supervisor behind `npm start`: a process that stops unexpectedly is started again after a pause that
// doubles with each crash (0.5 s … 30 s, back to 0.5 s once it has run a minute), while every other process keeps
// serving. A crash loop — five crashes within a minute, or three restarts in a row that never came up — stops
// everything with a report naming the process and the end of its log: restarting further would only hide the
// cause (a bad setting, a damaged file), and a system that silently runs without one of its parts is worse than
// one that says so and stops. Zero dependencies, like the rest of scripts/lib.
import { tailOf } from './system.mjs';

/** When to restart and when to give up; tests shorten the times. */
export const DEFAULT_POLICY = Object.freeze({
  firstDelayMs: 500,
  maxDelayMs: 30_000,
  /** A process that ran this long before it crashed was healthy: its next restart waits firstDelayMs again. */
  healthyAfterMs: 60_000,
  /** This many crashes within crashWindowMs is a crash loop. */
  crashLimit: 5,
  crashWindowMs: 60_000,
  /** This many restarts in a row that never became ready is a crash loop too (a bad setting, a damaged file). */
  failedStartLimit: 3,
});

/** Output kept from a process without a log file (redis-server, DynamoDB Local), for the report. */
const KEPT_OUTPUT_CHARS = 8_000;

/**
 * @typedef {import('node:child_process').ChildProcess} ChildProcess
 * @typedef {{ child: ChildProcess, logFile?: string }} Running   a started, ready process
 * @typedef {{ instance: string, reason: string, report: string }} GiveUp
 */

export class Supervisor {
  #policy;
  #say;
  #warn;
  #onGiveUp;
  /** @type {Map<string, Watched>} */
  #watched = new Map();
  #stopped = false;

  /**
   * @param {{ policy?: Partial<typeof DEFAULT_POLICY>, say?: (line: string) => void, warn?: (line: string) => void,
   *           onGiveUp: (giveUp: GiveUp) => void }} options
   *   `say` gets the good news, `warn` crashes and the crash-loop report; `onGiveUp` is called once, after which
   *   nothing is restarted any more (the caller then stops everything).
   */
  constructor({ policy = {}, say = (line) => console.log(line), warn = (line) => console.error(line), onGiveUp }) {
    this.#policy = { ...DEFAULT_POLICY, ...policy };
    this.#say = say;
    this.#warn = warn;
    this.#onGiveUp = onGiveUp;
  }

  /**
   * Watches a running process. When it exits while the supervisor runs, `start` is called after the pause:
   * it resolves with the new process once that is ready, or rejects (having stopped what it started) if not.
   * @param {string} instance  the name the console uses, e.g. `engagement-2`
   * @param {Running} running
   * @param {() => Promise<Running>} start
   */
  watch(instance, running, start) {
    const watched = new Watched(instance, start, this.#policy.firstDelayMs);
    this.#watched.set(instance, watched);
    this.#follow(watched, running);
  }

  /** No more restarts from now on (Ctrl-C, or a crash loop): exits are expected, pending restarts are cancelled. */
  stop() {
    this.#stopped = true;
    for (const w of this.#watched.values()) clearTimeout(w.timer);
  }

  get stopped() {
    return this.#stopped;
  }

  /** @param {Watched} w @param {Running} running */
  #follow(w, running) {
    w.running = running;
    w.upSince = Date.now();
    w.output = '';
    // A process whose output is piped to us (no log file) keeps its last words here for the report.
    for (const stream of [running.child.stdout, running.child.stderr]) {
      stream?.on('data', (d) => (w.output = (w.output + d).slice(-KEPT_OUTPUT_CHARS)));
    }
    const onExit = () => this.#crashed(w, running.child);
    if (running.child.exitCode !== null || running.child.signalCode !== null) queueMicrotask(onExit);
    else running.child.once('exit', onExit);
  }

  /** @param {Watched} w @param {ChildProcess} child */
  #crashed(w, child) {
    if (this.#stopped) return;
    const now = Date.now();
    if (now - w.upSince >= this.#policy.healthyAfterMs) w.delayMs = this.#policy.firstDelayMs;
    const how = child.signalCode ? `was killed by ${child.signalCode}` : `exited with code ${child.exitCode}`;
    if (this.#countCrash(w, now) >= this.#policy.crashLimit) {
      this.#giveUp(w, `${how}: that is ${w.crashes.length} crashes within ${seconds(this.#policy.crashWindowMs)}`);
      return;
    }
    this.#warn(`✖ ${w.instance} (pid ${child.pid}) ${how}${this.#logPlace(w)}. ${this.#scheduleRestart(w)}; the others keep serving.`);
  }

  /** Records a crash now; returns how many happened within the crash window. */
  #countCrash(w, now) {
    w.crashes = [...w.crashes.filter((t) => now - t < this.#policy.crashWindowMs), now];
    return w.crashes.length;
  }

  /** Schedules the next start after the current pause, doubles the pause; returns the sentence saying when. */
  #scheduleRestart(w) {
    const delay = w.delayMs;
    w.delayMs = Math.min(delay * 2, this.#policy.maxDelayMs);
    w.timer = setTimeout(() => void this.#restart(w), delay);
    return `Restarting it in ${seconds(delay)} (at ${clock(Date.now() + delay)})`;
  }

  /** @param {Watched} w */
  async #restart(w) {
    if (this.#stopped) return;
    w.restarts++;
    let running;
    try {
      running = await w.start();
    } catch (err) {
      if (this.#stopped) return;
      w.failedStarts++;
      // The first line says what failed (the log has the rest), without its full stop: it is quoted in a sentence.
      const firstLine = String(/** @type {Error} */ (err).message)
        .split('\n')[0]
        ?.replace(/\.$/, '');
      const crashes = this.#countCrash(w, Date.now());
      if (w.failedStarts >= this.#policy.failedStartLimit) {
        this.#giveUp(w, `did not start ${w.failedStarts} times in a row (last: ${firstLine})`);
        return;
      }
      if (crashes >= this.#policy.crashLimit) {
        this.#giveUp(w, `did not start (${firstLine}): that is ${crashes} crashes within ${seconds(this.#policy.crashWindowMs)}`);
        return;
      }
      this.#warn(`✖ ${w.instance} did not start: ${firstLine}${this.#logPlace(w)}. ${this.#scheduleRestart(w)}.`);
      return;
    }
    // Stopped while it was starting: whoever stops everything stops the new process too; do not watch it.
    if (this.#stopped) return;
    w.failedStarts = 0;
    this.#say(`✔ ${w.instance} is running again (pid ${running.child.pid}, restart ${w.restarts}).`);
    this.#follow(w, running);
  }

  #logPlace(w) {
    return w.running?.logFile ? `; log: ${w.running.logFile}` : '';
  }

  /** @param {Watched} w @param {string} reason */
  #giveUp(w, reason) {
    this.stop();
    const file = w.running?.logFile;
    const lines = (file ? tailOf(file) : w.output.trim() || '(it printed nothing)').split('\n').slice(-20);
    const report =
      `✖ ${w.instance} ${reason}. Stopping everything.\n` + `  ${file ? `The end of its log, ${file}:` : 'The last it printed:'}\n` + lines.map((l) => `  │ ${l}`).join('\n');
    this.#warn(report);
    this.#onGiveUp({ instance: w.instance, reason, report });
  }
}

/** What the supervisor remembers about one process across its restarts. */
class Watched {
  /** @type {Running | undefined} */ running;
  /** @type {ReturnType<typeof setTimeout> | undefined} */ timer;
  /** @type {number[]} */ crashes = [];
  upSince = 0;
  restarts = 0;
  failedStarts = 0;
  output = '';

  /** @param {string} instance @param {() => Promise<Running>} start @param {number} delayMs */
  constructor(instance, start, delayMs) {
    this.instance = instance;
    this.start = start;
    this.delayMs = delayMs;
  }
}

function seconds(ms) {
  return `${ms / 1000} s`;
}

function clock(ms) {
  return new Date(ms).toTimeString().slice(0, 8);
}
