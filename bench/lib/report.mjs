// The report: a console table, bench/results/latest.md (+ latest.json) and a hand-written SVG chart.
const num = (x, digits = 0) =>
  x === undefined || x === null || Number.isNaN(x) ? '–' : Number(x).toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
const ratio = (r) => (r === undefined || Number.isNaN(r) ? '–' : `${r.toFixed(2)}×`);
const goal = (row) => (row.goal ? `${row.goal} ${row.met ? '✔' : '✘'}` : '');

export function table(rows) {
  const head = ['scenario', 'what', 'req/s', 'p50 ms', 'p99 ms', 'ratio', 'vs', 'goal'];
  const body = rows.map((r) => [r.scenario, r.what, num(r.rps), num(r.p50, 1), num(r.p99, 1), ratio(r.ratio), r.vs ?? '', goal(r)]);
  return { head, body };
}

export function printTable(rows, checks) {
  const { head, body } = table(rows);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => String(b[i]).length)));
  /** @param {unknown[]} cells */
  const line = (cells) => cells.map((c, i) => (i >= 2 && i <= 5 ? String(c).padStart(widths[i] ?? 0) : String(c).padEnd(widths[i] ?? 0))).join('  ');
  console.log(`\n${line(head)}\n${widths.map((w) => '-'.repeat(w)).join('  ')}`);
  for (const b of body) console.log(line(b));
  const failed = checks.filter((c) => !c.ok);
  console.log(`\ncorrectness: ${checks.length - failed.length}/${checks.length} checks passed`);
  for (const c of failed) console.log(`  ✘ ${c.scenario}: ${c.check} — ${c.detail}`);
}

export function markdown({ rows, checks, machine, options, startedAt, seconds }) {
  const { head, body } = table(rows);
  const esc = (s) => String(s).replaceAll('|', '\\|');
  return [
    '# DEMS benchmark — latest run',
    '',
    `${startedAt} · ${machine.cpus}× ${machine.model} · ${machine.memGb} GB · Node ${process.versions.node} · ${seconds.toFixed(0)} s`,
    '',
    `Options: \`${options}\`. Every figure is the median of the runs; the ratio divides by the baseline named in "vs",`,
    'measured in this same run on this same machine (absolute numbers on a shared machine drift; ratios much less).',
    'Latency in ms; fan-out rows report the p50/p99 of the notification latency and the time until the last socket.',
    '',
    `| ${head.join(' | ')} |`,
    `| ${head.map((_, i) => (i >= 2 && i <= 5 ? '---:' : '---')).join(' | ')} |`,
    ...body.map((b) => `| ${b.map(esc).join(' | ')} |`),
    '',
    `Correctness: ${checks.filter((c) => c.ok).length}/${checks.length} checks passed.`,
    '',
    ...checks.map((c) => `- ${c.ok ? '✔' : '✘'} ${esc(c.scenario)}: ${esc(c.check)} — ${esc(c.detail)}`),
    '',
    '![throughput and latency](latest.svg)',
    '',
  ].join('\n');
}

/** Two panels: throughput bars (req/s) and latency (p50 bar, p99 whisker), one line per measured row. */
export function svg(rows, title) {
  const tp = rows.filter((r) => r.rps !== undefined && !Number.isNaN(r.rps));
  const lat = rows.filter((r) => r.p99 !== undefined && !Number.isNaN(r.p99));
  const W = 980;
  const labelW = 380;
  const barW = W - labelW - 120;
  const rowH = 22;
  const esc = (s) => String(s).replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]);
  const label = (r) => esc(`${r.scenario} · ${r.what}`);
  const parts = [];
  let y = 40;
  parts.push(`<text x="10" y="24" font-size="16" font-weight="bold">${esc(title)}</text>`);
  parts.push(`<text x="10" y="${y + 10}" font-size="13" font-weight="bold">Throughput (requests/s, median of runs)</text>`);
  y += 22;
  const maxRps = Math.max(1, ...tp.map((r) => r.rps));
  for (const r of tp) {
    const w = Math.max(1, (r.rps / maxRps) * barW);
    const colour = r.scenario === 'baseline' ? '#9aa5b1' : r.met === false ? '#d9822b' : '#2b7bb9';
    parts.push(`<text x="10" y="${y + 15}" font-size="11">${label(r)}</text>`);
    parts.push(`<rect x="${labelW}" y="${y + 4}" width="${w.toFixed(1)}" height="${rowH - 8}" fill="${colour}"/>`);
    parts.push(`<text x="${labelW + w + 6}" y="${y + 15}" font-size="11">${num(r.rps)}${r.ratio !== undefined ? ` (${ratio(r.ratio)} ${esc(r.vs ?? '')})` : ''}</text>`);
    y += rowH;
  }
  y += 20;
  parts.push(`<text x="10" y="${y + 10}" font-size="13" font-weight="bold">Latency (ms): bar = p50, whisker = p99 (log scale)</text>`);
  y += 22;
  const maxLat = Math.max(10, ...lat.map((r) => r.p99));
  const scale = (ms) => (Math.log10(1 + ms) / Math.log10(1 + maxLat)) * barW;
  for (const r of lat) {
    parts.push(`<text x="10" y="${y + 15}" font-size="11">${label(r)}</text>`);
    if (r.p50 !== undefined && !Number.isNaN(r.p50))
      parts.push(`<rect x="${labelW}" y="${y + 4}" width="${Math.max(1, scale(r.p50)).toFixed(1)}" height="${rowH - 8}" fill="#55a868"/>`);
    const x99 = labelW + scale(r.p99);
    parts.push(`<line x1="${labelW}" y1="${y + 11}" x2="${x99.toFixed(1)}" y2="${y + 11}" stroke="#c44e52" stroke-width="1.5"/>`);
    parts.push(`<line x1="${x99.toFixed(1)}" y1="${y + 5}" x2="${x99.toFixed(1)}" y2="${y + 17}" stroke="#c44e52" stroke-width="2"/>`);
    parts.push(`<text x="${x99 + 6}" y="${y + 15}" font-size="11">p50 ${num(r.p50, 1)} · p99 ${num(r.p99, 1)}</text>`);
    y += rowH;
  }
  const H = y + 20;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif">
<rect width="${W}" height="${H}" fill="white"/>
${parts.join('\n')}
</svg>
`;
}
