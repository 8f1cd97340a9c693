import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT } from '../../scripts/lib/system.mjs';

// `npm run bench -- --quick` as a smoke check: it must run every scenario and find the system correct
// (no oversell, no 5xx, replays create nothing). Timings are only checked for being numbers, never for speed.
describe('bench --quick', () => {
  const out = mkdtempSync(join(tmpdir(), 'dems-bench-quick-'));
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it('runs every scenario, passes every correctness check and reports sane numbers', async () => {
    const { code, output } = await new Promise<{ code: number | null; output: string }>((resolve) => {
      const child = spawn(process.execPath, [join(ROOT, 'bench', 'run.mjs'), '--quick', '--no-build', '--port-base', '0', '--out', out], {
        cwd: ROOT,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      child.stdout.on('data', (d) => (output += d));
      child.stderr.on('data', (d) => (output += d));
      child.on('exit', (c) => resolve({ code: c, output }));
    });
    const report = JSON.parse(readFileSync(join(out, 'latest.json'), 'utf8'));
    const failed = report.checks.filter((c: { ok: boolean }) => !c.ok);
    expect(failed, output).toEqual([]);
    expect(code, output).toBe(0);

    const scenarios = new Set(report.rows.map((r: { scenario: string }) => r.scenario));
    expect([...scenarios].sort()).toEqual(['1 hot sale', '2 durable', '3 flash crowd', '4 sold out', '5 browse', '6 live fan-out', '7 dynamodb', '8 waiting room', 'baseline']);
    for (const check of ['no oversell', 'zero new orders', 'zero 5xx', 'every order 201 and its notification reached the buyer']) {
      expect(
        report.checks.some((c: { check: string }) => c.check.includes(check)),
        check,
      ).toBe(true);
    }
    for (const row of report.rows) {
      if (row.rps !== undefined) expect(row.rps, row.what).toBeGreaterThan(0);
      if (row.ratio !== undefined) expect(Number.isFinite(row.ratio), row.what).toBe(true);
      expect(Number.isFinite(row.p99) && row.p99 >= 0, row.what).toBe(true);
      if (row.p50 !== undefined) expect(row.p99, row.what).toBeGreaterThanOrEqual(row.p50);
    }
    const markdown = readFileSync(join(out, 'latest.md'), 'utf8');
    for (const s of scenarios) expect(markdown).toContain(`| ${s} |`);
    expect(readFileSync(join(out, 'latest.svg'), 'utf8')).toMatch(/^<svg[\s\S]*<\/svg>\s*$/);
  }, 180_000);
});
