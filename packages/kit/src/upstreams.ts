import { z } from 'zod';

/**
 * Where the replicas of one service are reached: `EVENTS_URL=http://10.0.0.5:3001,http://10.0.0.6:3001`, or one
 * URL. Each is an http(s) origin (no path: the callers add theirs), listed once. The parsed value is the list.
 */
export function urlList(fallback: string) {
  return z
    .string()
    .default(fallback)
    .transform((text, ctx) => {
      const urls: string[] = [];
      for (const item of text.split(',').map((s) => s.trim())) {
        const url = baseUrl(item);
        const problem = !item
          ? 'needs one URL, or a comma-separated list of URLs with one per replica (an entry is empty)'
          : !url
            ? `"${item}" is not an http(s) address without a path, such as http://127.0.0.1:3001`
            : urls.includes(url)
              ? `lists ${url} twice; give each replica once`
              : undefined;
        if (problem) {
          ctx.addIssue({ code: 'custom', message: problem });
          return z.NEVER;
        }
        urls.push(url!);
      }
      return urls;
    });
}

/** The origin of an http(s) URL written without path, query or fragment (a trailing slash is fine), else undefined. */
function baseUrl(text: string): string | undefined {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return undefined;
  }
  const plain = (url.protocol === 'http:' || url.protocol === 'https:') && url.pathname === '/' && !url.search && !url.hash && !url.username;
  return plain && !text.includes('?') && !text.includes('#') ? url.origin : undefined;
}

export interface UpstreamsOptions {
  /** The service these are replicas of; named in logs. */
  service: string;
  /** One base URL per replica (see urlList). */
  urls: string | readonly string[];
  /** The first probe of a replica taken out of rotation runs after this; each failed probe doubles it up to probeMaxMs. */
  probeMinMs?: number;
  probeMaxMs?: number;
  /** How long one probe (GET /readyz) may take. */
  probeTimeoutMs?: number;
  log?: { info?: (o: object, m: string) => void; warn: (o: object, m: string) => void };
  /** Requests and probes go through this (in-process tests hand the request to app.inject). */
  fetch?: typeof fetch;
}

interface Outage {
  waitMs: number;
  timer?: NodeJS.Timeout;
}

/**
 * The replicas of one service, as a caller of that service sees them. Requests go round robin to the replicas
 * that answer; one that does not answer (refused, reset, timed out) is taken out of rotation and probed in the
 * background (GET /readyz, at a growing but bounded interval) until it is ready again. A replica that answers,
 * whatever it answers, is in rotation. Timers never keep a process alive; stop() ends the probing.
 */
export class Upstreams {
  readonly service: string;
  readonly urls: readonly string[];
  private readonly outages = new Map<string, Outage>();
  private turn = 0;
  private stopped = false;
  private readonly probes = new AbortController();
  private readonly probeMinMs: number;
  private readonly probeMaxMs: number;
  private readonly send: typeof fetch;

  constructor(private readonly opts: UpstreamsOptions) {
    this.service = opts.service;
    this.urls = typeof opts.urls === 'string' ? [opts.urls] : [...opts.urls];
    if (this.urls.length === 0) throw new Error(`No URL given for the ${opts.service} service.`);
    this.probeMinMs = opts.probeMinMs ?? 200;
    this.probeMaxMs = Math.max(this.probeMinMs, opts.probeMaxMs ?? 2000);
    this.send = opts.fetch ?? ((input, init) => fetch(input, init));
  }

  /** Whether any replica is in rotation. */
  get anyUp(): boolean {
    return this.outages.size < this.urls.length;
  }

  /** The replicas in rotation, starting with the next one's turn (round robin). */
  healthy(): string[] {
    const up = this.urls.filter((u) => !this.outages.has(u));
    if (up.length === 0) return [];
    const start = this.turn++ % up.length;
    if (this.turn >= Number.MAX_SAFE_INTEGER) this.turn = 0;
    return [...up.slice(start), ...up.slice(0, start)];
  }

  /**
   * The replicas to try for one request, in order: those in rotation, round robin; when none is, every replica
   * (asking beats failing without asking, and the answer brings a replica back at once).
   */
  candidates(): string[] {
    const up = this.healthy();
    return up.length ? up : [...this.urls];
  }

  isUp(url: string): boolean {
    return !this.outages.has(url);
  }

  /** Every replica and whether it is in rotation. */
  status(): { url: string; up: boolean }[] {
    return this.urls.map((url) => ({ url, up: !this.outages.has(url) }));
  }

  /** Takes a replica that did not answer out of rotation, and probes it until it is ready again. */
  markDown(url: string, reason: string): void {
    if (this.outages.has(url) || !this.urls.includes(url)) return;
    const outage: Outage = { waitMs: this.probeMinMs };
    this.outages.set(url, outage);
    // With one replica there is no rotation to leave: the caller reports its own failures.
    if (this.urls.length > 1) this.opts.log?.warn({ service: this.service, url, reason }, 'replica out of rotation until it is ready again');
    this.probeLater(url, outage);
  }

  /**
   * A replica that closes the connection of its answer is stopping (ADR 008: a draining or stopping replica says
   * `connection: close` with every answer), and its port will soon refuse connections: it leaves the rotation while
   * another replica is in it, so that no request meets the closed port. Its probe (/readyz, 503 while it stops)
   * brings it back once it has restarted.
   */
  markStopping(url: string, connectionHeader: string | null | undefined): void {
    if (!/\bclose\b/i.test(connectionHeader ?? '') || !this.isUp(url)) return;
    if (this.urls.some((other) => other !== url && this.isUp(other))) this.markDown(url, 'stopping: it answered with connection: close');
  }

  /** Puts a replica back in rotation (it answered a probe or a request). */
  markUp(url: string): void {
    const outage = this.outages.get(url);
    if (!outage) return;
    clearTimeout(outage.timer);
    this.outages.delete(url);
    if (this.urls.length > 1) this.opts.log?.info?.({ service: this.service, url }, 'replica answering again; back in rotation');
  }

  /**
   * Sends one request to one replica after another until one answers: a replica that gives no answer is taken
   * out of rotation, and one that answers 503 (in DEMS: "nothing was done") is passed over for the next. Returns
   * the first other answer, or the last replica's 503; throws the last error when no replica answered.
   * Only for requests that are safe to send twice; `init.signal` bounds all the attempts together.
   */
  async fetch(path: string, init: RequestInit = {}): Promise<Response> {
    const replicas = this.candidates();
    let failure: unknown;
    for (const [i, url] of replicas.entries()) {
      let res: Response;
      try {
        res = await this.send(`${url}${path}`, init);
      } catch (err) {
        failure = err;
        this.markDown(url, failureReason(err));
        if (init.signal?.aborted) break; // the caller's time is up: no other replica could answer in time either
        continue;
      }
      this.markUp(url);
      this.markStopping(url, res.headers.get('connection'));
      if (res.status !== 503 || i === replicas.length - 1) return res;
      await res.body?.cancel();
    }
    throw failure;
  }

  /** Ends the probing; nothing is probed after this. */
  stop(): void {
    this.stopped = true;
    this.probes.abort();
    for (const outage of this.outages.values()) clearTimeout(outage.timer);
  }

  private probeLater(url: string, outage: Outage): void {
    if (this.stopped) return;
    outage.timer = setTimeout(() => void this.probe(url, outage), outage.waitMs);
    outage.timer.unref();
  }

  private async probe(url: string, outage: Outage): Promise<void> {
    let ready = false;
    try {
      const signal = AbortSignal.any([this.probes.signal, AbortSignal.timeout(this.opts.probeTimeoutMs ?? 1000)]);
      const res = await this.send(`${url}/readyz`, { signal });
      await res.body?.cancel();
      ready = res.ok;
    } catch {
      /* still not answering */
    }
    if (this.outages.get(url) !== outage) return; // a request reached it meanwhile
    if (ready) return this.markUp(url);
    outage.waitMs = Math.min(outage.waitMs * 2, this.probeMaxMs);
    this.probeLater(url, outage);
  }
}

/** A failed fetch in a few words: undici hides the reason (ECONNREFUSED, …) in `cause`. */
export function failureReason(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = err.cause as { code?: string; message?: string } | undefined;
  return cause?.code ?? cause?.message ?? `${err.name}: ${err.message}`;
}
