// Scalars: run_dir/scalars.jsonl (docs/summaries.md), one {"tag","step","wall_time","value"} per
// line; NaN and Inf are the strings "nan", "inf", "-inf". One plot per tag, runs overlaid.

const NON_FINITE = { nan: NaN, inf: Infinity, '-inf': -Infinity };
const RECOVERY_KEY = 'recovered_partial_line_bytes';

// Parses a JSON-lines text. Returns { events, warnings }: a partial last line (a writer that is
// still writing, or crashed) and malformed lines are skipped with a warning naming the line.
export function parseScalars(text, source = 'scalars.jsonl') {
  const events = [];
  const warnings = [];
  const lines = text.split('\n');
  const partial = !text.endsWith('\n') && lines[lines.length - 1] !== '';
  const last = lines.length - 1;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (!line) continue;
    if (i === last && partial) {
      warnings.push(`${source}: skipped a partial last line (${lines[i].length} bytes)`);
      continue;
    }
    let e;
    try {
      e = JSON.parse(line);
    } catch (err) {
      // Before a recovery marker the line was cut by a crash; otherwise the file is corrupt.
      const next = lines.slice(i + 1).find((l) => l.trim());
      if (next && next.includes(RECOVERY_KEY)) warnings.push(`${source} line ${i + 1}: a line cut by a crash; skipped`);
      else warnings.push(`${source} line ${i + 1}: not valid JSON (${err.message}); skipped`);
      continue;
    }
    if (e && typeof e === 'object' && RECOVERY_KEY in e) continue;
    if (!e || typeof e.tag !== 'string' || !Number.isFinite(e.step)) {
      warnings.push(`${source} line ${i + 1}: needs "tag" (string) and "step" (number); skipped`);
      continue;
    }
    let value = e.value;
    if (typeof value === 'string' && value in NON_FINITE) value = NON_FINITE[value];
    if (typeof value !== 'number') {
      warnings.push(`${source} line ${i + 1}: "value" is not a number; skipped`);
      continue;
    }
    events.push({ tag: e.tag, step: e.step, wall_time: e.wall_time, value });
  }
  return { events, warnings };
}

// text.jsonl: {"tag","step","wall_time","text"}.
export function parseTexts(text, source = 'text.jsonl') {
  const out = [];
  const warnings = [];
  text.split('\n').forEach((line, i, all) => {
    line = line.trim();
    if (!line) return;
    try {
      const e = JSON.parse(line);
      if (e && typeof e.tag === 'string' && typeof e.text === 'string') out.push(e);
    } catch {
      if (i !== all.length - 1) warnings.push(`${source} line ${i + 1}: not valid JSON; skipped`);
    }
  });
  return { events: out, warnings };
}

export const RUN_COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf', '#7f7f7f', '#bcbd22'];

const SVG = 'http://www.w3.org/2000/svg';
function el(name, attrs = {}, parent = null) {
  const e = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (parent) parent.appendChild(e);
  return e;
}

// Round tick values covering [lo, hi].
export function ticks(lo, hi, count = 5) {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count;
  const mag = Math.pow(10, Math.floor(Math.log10(raw)));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) || 10 * mag;
  const out = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) out.push(Math.abs(t) < step * 1e-9 ? 0 : t);
  return out;
}

export function fmt(x) {
  if (!Number.isFinite(x)) return String(x);
  const a = Math.abs(x);
  if (a !== 0 && (a >= 1e5 || a < 1e-3)) return x.toExponential(2);
  return String(Number(x.toPrecision(4)));
}

// One plot: `series` is [{ run, color, points: [{step, value}] }] for one tag.
export function plotTag(tag, series, opts = {}) {
  const W = opts.width || 440;
  const H = opts.height || 240;
  const M = { l: 56, r: 12, t: 26, b: 32 };
  const box = document.createElement('div');
  box.className = 'plot';
  box.dataset.tag = tag;
  const svg = el('svg', { width: W, height: H, viewBox: `0 0 ${W} ${H}`, class: 'plot-svg' });
  box.appendChild(svg);
  el('text', { x: M.l, y: 16, class: 'plot-title' }, svg).textContent = tag;

  let xmin = Infinity, xmax = -Infinity, ymin = Infinity, ymax = -Infinity;
  let nonFinite = 0;
  for (const s of series)
    for (const p of s.points) {
      if (!Number.isFinite(p.value)) {
        nonFinite++;
        continue;
      }
      xmin = Math.min(xmin, p.step); xmax = Math.max(xmax, p.step);
      ymin = Math.min(ymin, p.value); ymax = Math.max(ymax, p.value);
    }
  if (!Number.isFinite(xmin)) {
    el('text', { x: W / 2, y: H / 2, 'text-anchor': 'middle', class: 'plot-empty' }, svg).textContent = 'no finite values';
    return box;
  }
  if (xmax === xmin) { xmin -= 1; xmax += 1; }
  if (ymax === ymin) { const d = Math.abs(ymin) * 0.1 || 1; ymin -= d; ymax += d; }
  const pad = (ymax - ymin) * 0.05;
  ymin -= pad; ymax += pad;
  const X = (s) => M.l + ((s - xmin) / (xmax - xmin)) * (W - M.l - M.r);
  const Y = (v) => H - M.b - ((v - ymin) / (ymax - ymin)) * (H - M.t - M.b);

  const axes = el('g', { class: 'axes' }, svg);
  for (const t of ticks(ymin, ymax, 5)) {
    el('line', { x1: M.l, x2: W - M.r, y1: Y(t), y2: Y(t), class: 'grid' }, axes);
    el('text', { x: M.l - 6, y: Y(t) + 4, 'text-anchor': 'end', class: 'tick' }, axes).textContent = fmt(t);
  }
  for (const t of ticks(xmin, xmax, 6)) {
    if (opts.integerSteps !== false && !Number.isInteger(t)) continue;
    el('line', { x1: X(t), x2: X(t), y1: H - M.b, y2: H - M.b + 4, class: 'axis' }, axes);
    el('text', { x: X(t), y: H - M.b + 16, 'text-anchor': 'middle', class: 'tick' }, axes).textContent = fmt(t);
  }
  el('line', { x1: M.l, x2: W - M.r, y1: H - M.b, y2: H - M.b, class: 'axis' }, axes);
  el('line', { x1: M.l, x2: M.l, y1: M.t, y2: H - M.b, class: 'axis' }, axes);
  el('text', { x: W - M.r, y: H - 4, 'text-anchor': 'end', class: 'axis-label' }, axes).textContent = 'step';

  for (const s of series) {
    const g = el('g', { class: 'series', 'data-run': s.run, 'data-points': s.points.length }, svg);
    const finite = s.points.filter((p) => Number.isFinite(p.value));
    let d = '';
    finite.forEach((p, i) => { d += (i ? 'L' : 'M') + X(p.step).toFixed(1) + ' ' + Y(p.value).toFixed(1); });
    el('path', { d, stroke: s.color, class: 'line' }, g);
    // One marker per logged step (drawn up to a few thousand; the path carries the rest).
    if (finite.length <= 3000) {
      for (const p of finite) {
        const c = el('circle', { cx: X(p.step).toFixed(1), cy: Y(p.value).toFixed(1), r: finite.length > 200 ? 1.2 : 2.2, fill: s.color, class: 'pt' }, g);
        el('title', {}, c).textContent = `${s.run} · step ${p.step}: ${fmt(p.value)}`;
      }
    }
  }
  if (series.length > 1 || opts.legend) {
    const lg = el('g', { class: 'legend' }, svg);
    series.forEach((s, i) => {
      const x = W - M.r - 150;
      const y = M.t + 4 + i * 14;
      el('rect', { x, y, width: 10, height: 3, fill: s.color }, lg);
      el('text', { x: x + 14, y: y + 5, class: 'legend-text' }, lg).textContent = s.run;
    });
  }
  if (nonFinite) {
    el('text', { x: W - M.r, y: 16, 'text-anchor': 'end', class: 'plot-note' }, svg).textContent = `${nonFinite} NaN/Inf not drawn`;
  }
  // Hover: the nearest step of every run.
  const hover = el('g', { class: 'hover', visibility: 'hidden' }, svg);
  const vline = el('line', { y1: M.t, y2: H - M.b, class: 'hover-line' }, hover);
  const label = el('text', { y: M.t + 10, class: 'hover-text' }, hover);
  svg.addEventListener('mousemove', (ev) => {
    const r = svg.getBoundingClientRect();
    const px = ((ev.clientX - r.left) / r.width) * W;
    if (px < M.l || px > W - M.r) { hover.setAttribute('visibility', 'hidden'); return; }
    const step = xmin + ((px - M.l) / (W - M.l - M.r)) * (xmax - xmin);
    const parts = [];
    let best = null;
    for (const s of series) {
      let near = null;
      for (const p of s.points) if (!near || Math.abs(p.step - step) < Math.abs(near.step - step)) near = p;
      if (near) { parts.push(`${s.run}: ${fmt(near.value)}`); best = best ?? near.step; }
    }
    if (best === null) return;
    hover.setAttribute('visibility', 'visible');
    vline.setAttribute('x1', X(best)); vline.setAttribute('x2', X(best));
    label.setAttribute('x', Math.min(X(best) + 4, W - 140));
    label.textContent = `step ${best} · ${parts.join(' · ')}`;
  });
  svg.addEventListener('mouseleave', () => hover.setAttribute('visibility', 'hidden'));
  return box;
}

// histograms.jsonl: {"tag","step","wall_time","bucket_edges","bucket_counts","count","min","max",
// "sum","sum_squares","nan_count","neg_inf_count","pos_inf_count"} per line (docs/summaries.md).
// Lines are read like scalars.jsonl's; a line whose edges and counts do not fit is skipped.
export function parseHistograms(text, source = 'histograms.jsonl') {
  const events = [];
  const warnings = [];
  const lines = text.split('\n');
  const partial = !text.endsWith('\n') && lines[lines.length - 1] !== '';
  const num = (v) => (typeof v === 'number' ? v : typeof v === 'string' && v in NON_FINITE ? NON_FINITE[v] : null);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (!line) continue;
    if (i === lines.length - 1 && partial) {
      warnings.push(`${source}: skipped a partial last line (${lines[i].length} bytes)`);
      continue;
    }
    let e;
    try {
      e = JSON.parse(line);
    } catch (err) {
      warnings.push(`${source} line ${i + 1}: not valid JSON (${err.message}); skipped`);
      continue;
    }
    if (e && typeof e === 'object' && RECOVERY_KEY in e) continue;
    if (!e || typeof e.tag !== 'string' || !Number.isFinite(e.step)) {
      warnings.push(`${source} line ${i + 1}: needs "tag" (string) and "step" (number); skipped`);
      continue;
    }
    const edges = Array.isArray(e.bucket_edges) ? e.bucket_edges.map(num) : null;
    const counts = Array.isArray(e.bucket_counts) ? e.bucket_counts : null;
    if (!edges || !counts || edges.length !== counts.length + 1 || edges.some((x) => x === null) || counts.some((c) => typeof c !== 'number')) {
      warnings.push(`${source} line ${i + 1}: "bucket_edges" must be one longer than "bucket_counts"; skipped`);
      continue;
    }
    const extra = {};
    for (const k of ['count', 'min', 'max', 'sum', 'sum_squares', 'nan_count', 'neg_inf_count', 'pos_inf_count']) if (k in e) extra[k] = num(e[k]);
    events.push({ tag: e.tag, step: e.step, wall_time: e.wall_time, edges, counts, ...extra, line: i });
  }
  return { events, warnings };
}

// Per tag, the event with the highest step (the later line when a step repeats).
export function latestHistograms(events) {
  const best = new Map();
  for (const e of events) {
    const b = best.get(e.tag);
    if (!b || e.step >= b.step) best.set(e.tag, e);
  }
  return [...best.values()];
}

// One histogram as bars over its bucket edges; the title says the tag and the step.
export function plotHistogram(h, opts = {}) {
  const W = opts.width || 440;
  const H = opts.height || 200;
  const M = { l: 56, r: 12, t: 26, b: 32 };
  const box = document.createElement('div');
  box.className = 'plot histogram';
  box.dataset.tag = h.tag;
  box.dataset.step = String(h.step);
  if (opts.run) box.dataset.run = opts.run;
  const svg = el('svg', { width: W, height: H, viewBox: `0 0 ${W} ${H}`, class: 'plot-svg' });
  box.appendChild(svg);
  el('text', { x: M.l, y: 16, class: 'plot-title' }, svg).textContent = opts.showRun ? `${h.tag} · ${opts.run}` : h.tag;
  el('text', { x: W - M.r, y: 16, 'text-anchor': 'end', class: 'hist-step tick' }, svg).textContent = `step ${h.step}`;
  const finite = h.edges.every(Number.isFinite);
  if (!h.counts.length || !finite) {
    el('text', { x: W / 2, y: H / 2, 'text-anchor': 'middle', class: 'plot-empty' }, svg).textContent = h.counts.length ? 'non-finite bucket edges' : 'no finite values';
    return box;
  }
  let xmin = h.edges[0], xmax = h.edges[h.edges.length - 1];
  if (!(xmax > xmin)) { xmin -= 0.5; xmax += 0.5; }
  const cmax = Math.max(1, ...h.counts);
  const X = (v) => M.l + ((v - xmin) / (xmax - xmin)) * (W - M.l - M.r);
  const Y = (c) => H - M.b - (c / cmax) * (H - M.t - M.b);
  const axes = el('g', { class: 'axes' }, svg);
  for (const t of ticks(0, cmax, 4)) {
    el('line', { x1: M.l, x2: W - M.r, y1: Y(t), y2: Y(t), class: 'grid' }, axes);
    el('text', { x: M.l - 6, y: Y(t) + 4, 'text-anchor': 'end', class: 'tick' }, axes).textContent = fmt(t);
  }
  for (const t of ticks(xmin, xmax, 6)) {
    el('line', { x1: X(t), x2: X(t), y1: H - M.b, y2: H - M.b + 4, class: 'axis' }, axes);
    el('text', { x: X(t), y: H - M.b + 16, 'text-anchor': 'middle', class: 'tick' }, axes).textContent = fmt(t);
  }
  el('line', { x1: M.l, x2: W - M.r, y1: H - M.b, y2: H - M.b, class: 'axis' }, axes);
  el('line', { x1: M.l, x2: M.l, y1: M.t, y2: H - M.b, class: 'axis' }, axes);
  const bars = el('g', { class: 'bars' }, svg);
  h.counts.forEach((c, i) => {
    let x0 = X(h.edges[i]), x1 = X(h.edges[i + 1]);
    if (x1 - x0 < 1) x1 = x0 + 1; // a one-value histogram has equal edges
    const r = el('rect', { class: 'bar', x: x0.toFixed(1), y: Y(c).toFixed(1), width: (x1 - x0).toFixed(1), height: (H - M.b - Y(c)).toFixed(1), 'data-count': c }, bars);
    el('title', {}, r).textContent = `[${fmt(h.edges[i])}, ${fmt(h.edges[i + 1])}): ${c}`;
  });
  const nonFinite = (h.nan_count || 0) + (h.neg_inf_count || 0) + (h.pos_inf_count || 0);
  if (nonFinite) el('text', { x: W - M.r, y: M.t + 4, 'text-anchor': 'end', class: 'plot-note' }, svg).textContent = `${nonFinite} NaN/Inf not drawn`;
  return box;
}
