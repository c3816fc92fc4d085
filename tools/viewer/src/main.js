// The viewer page: where graphs and scalars come from (files or a folder picked from disk, or the
// run served by `xflow view` under /run/), the graph tab with its side panel and search, and the
// scalars tab. Bundled as one classic script (docs/viewer.md).
import { opCategory } from './colors.js';
import { GRAPH_CSS, GraphView, fusedLabel, humanBytes, humanSeconds } from './graphview.js';
import { GraphError, GraphModel, decodeConstant, parseGraph, shapeStr, specOf, valueBytes } from './model.js';
import { RUN_COLORS, latestHistograms, parseHistograms, parseScalars, parseTexts, plotHistogram, plotTag } from './scalars.js';

const $ = (id) => document.getElementById(id);

const state = {
  graphs: [], // { key, label, run, path, read: () => Promise<string>, dump?: { label, read } }
  runs: new Map(), // name -> { name, color, visible, scalars: [], texts: [], histograms: [], sources: Set }
  current: null, // key of the graph shown
  model: null,
  served: false,
  scalarText: new Map(), // served path -> last text read (to skip redrawing unchanged data)
};

let view = null;

// ----- messages -----

function showMessage(text, kind = 'error') {
  const m = $('message');
  m.textContent = text;
  m.className = `message ${kind}`;
  m.hidden = false;
  m.dataset.kind = kind;
}
function clearMessage() {
  const m = $('message');
  m.hidden = true;
  m.textContent = '';
}
const warnings = [];
function warn(list) {
  if (!list.length) return;
  warnings.push(...list);
  showMessage(warnings.slice(-6).join('\n'), 'warning');
}

// ----- sources -----

function dirOf(path) {
  const i = path.lastIndexOf('/');
  return i < 0 ? '' : path.slice(0, i);
}
function baseOf(path) {
  return path.slice(path.lastIndexOf('/') + 1);
}

function runFor(name, origin = 'served') {
  let r = state.runs.get(name);
  if (!r) {
    r = { name, origin, color: RUN_COLORS[state.runs.size % RUN_COLORS.length], visible: true, scalars: [], texts: [], histograms: [] };
    state.runs.set(name, r);
  }
  return r;
}

// Files of a run (a served listing or a picked folder): `files` are { path, read } with paths
// relative to the run root, whose name is `rootName`. A file in a subfolder belongs to the run
// named after that subfolder.
async function addRunFiles(files, rootName, origin) {
  const runName = (path) => (dirOf(path) ? `${rootName}/${dirOf(path)}` : rootName);
  const graphs = files.filter((f) => (f.path.endsWith('.json') || f.path.endsWith('.meta')) && !baseOf(f.path).startsWith('.') && baseOf(f.path) !== 'index.json');
  // The root's graph.json first, then other graph.json files, then by path.
  graphs.sort((a, b) => (b.path === 'graph.json') - (a.path === 'graph.json') || (baseOf(b.path) === 'graph.json') - (baseOf(a.path) === 'graph.json') || (a.path < b.path ? -1 : 1));
  for (const f of graphs) {
    const key = `${origin}:${rootName}/${f.path}`;
    state.graphs = state.graphs.filter((g) => g.key !== key);
    state.graphs.push({ key, label: `${rootName}/${f.path}`, path: f.path, read: f.read });
  }
  // Dump directories of xf::debug::dump_run: an index.json next to a graph.json goes with it, and
  // is read when that graph is shown (a run may hold many dumps); one that is not a dump index
  // ("format": "xflow-dump") is then left alone.
  for (const f of files) {
    if (baseOf(f.path) !== 'index.json' || (!dirOf(f.path) && origin === 'served')) continue; // the served root's index.json is the run listing
    const gpath = (dirOf(f.path) ? dirOf(f.path) + '/' : '') + 'graph.json';
    const g = state.graphs.find((x) => x.key === `${origin}:${rootName}/${gpath}`);
    if (g) g.dump = { label: `${rootName}/${f.path}`, read: f.read, optional: true };
  }
  // The run at the root first (it gets the first color), then subfolders by path.
  const depth = (p) => p.split('/').length;
  const eventFiles = files.slice().sort((a, b) => depth(a.path) - depth(b.path) || (a.path < b.path ? -1 : 1));
  for (const f of eventFiles) {
    const b = baseOf(f.path);
    if (b !== 'scalars.jsonl' && b !== 'text.jsonl' && b !== 'histograms.jsonl') continue;
    const text = await f.read();
    const run = runFor(runName(f.path), origin);
    if (b === 'scalars.jsonl') {
      const { events, warnings: w } = parseScalars(text, `${run.name}/scalars.jsonl`);
      run.scalars = events;
      warn(w);
    } else if (b === 'text.jsonl') {
      const { events, warnings: w } = parseTexts(text, `${run.name}/text.jsonl`);
      run.texts = events;
      warn(w);
    } else {
      const { events, warnings: w } = parseHistograms(text, `${run.name}/histograms.jsonl`);
      run.histograms = events;
      warn(w);
    }
  }
}

async function fetchText(url) {
  const r = await fetch(url, { cache: 'no-store' });
  if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
  return r.text();
}

async function loadServed() {
  let index;
  try {
    index = JSON.parse(await fetchText('run/index.json'));
  } catch (e) {
    return false; // not served by `xflow view`
  }
  state.served = true;
  $('reload').hidden = false;
  const files = (index.files || []).map((f) => ({ path: f.path, read: () => fetchText('run/' + f.path.split('/').map(encodeURIComponent).join('/')) }));
  $('source-label').textContent = `served: ${index.run || 'run'}`;
  await addRunFiles(files, index.run || 'run', 'served');
  // `xflow view --dump DIR`: the dump's graph with its index, served under /dump/, shown first.
  if (typeof index.dump === 'string') {
    const text = await fetchText('dump/index.json');
    let graph = 'graph.json';
    try {
      const j = JSON.parse(text);
      if (typeof j.graph === 'string') graph = j.graph;
    } catch {
      // attachDump reports it when the graph is shown
    }
    const key = `dump:${index.dump}/${graph}`;
    state.graphs = state.graphs.filter((g) => g.key !== key);
    state.graphs.unshift({ key, label: `dump ${index.dump}/${graph}`, path: `dump/${graph}`,
      read: () => fetchText('dump/' + graph.split('/').map(encodeURIComponent).join('/')),
      dump: { label: `dump ${index.dump}/index.json`, read: async () => text } });
    $('source-label').textContent = files.length ? `served: ${index.run || 'run'}, dump ${index.dump}` : `served: dump ${index.dump}`;
  }
  return true;
}

function uniqueRoot(name) {
  let n = name, k = 2;
  const used = new Set(state.graphs.map((g) => g.label.split('/')[0]).concat([...state.runs.keys()].map((r) => r.split('/')[0])));
  while (used.has(n)) n = `${name} (${k++})`;
  return n;
}

// A folder picked with <input webkitdirectory>: paths are "folder/sub/file".
async function addFolder(fileList) {
  const files = [...fileList];
  if (!files.length) return;
  const top = files[0].webkitRelativePath.split('/')[0] || 'folder';
  const root = uniqueRoot(top);
  const entries = files.map((f) => ({ path: f.webkitRelativePath.split('/').slice(1).join('/') || f.name, read: () => f.text() }));
  await addRunFiles(entries, root, 'folder');
  $('source-label').textContent = `folder: ${top}`;
}

// Loose files: graphs and event files; each event file becomes a run named after the file.
async function addFiles(fileList) {
  const files = [...fileList];
  // A dump's index.json picked with its graph: the graph shows the dump's statistics.
  const dumps = [];
  for (const f of files.filter((x) => x.name === 'index.json')) {
    const text = await f.text();
    let j = null;
    try {
      j = JSON.parse(text);
    } catch {
      // not a dump index: shown (and reported) as a graph below
    }
    if (j && j.format === 'xflow-dump') dumps.push({ f, text, graph: typeof j.graph === 'string' ? baseOf(j.graph) : 'graph.json' });
  }
  const graphs = files.filter((f) => (f.name.endsWith('.json') || f.name.endsWith('.meta')) && !dumps.some((d) => d.f === f));
  for (const f of graphs) {
    const key = `file:${f.name}:${f.size}:${f.lastModified}`;
    state.graphs = state.graphs.filter((g) => g.key !== key);
    const d = dumps.find((x) => x.graph === f.name);
    state.graphs.push({ key, label: f.name, path: f.name, read: () => f.text(), ...(d ? { dump: { label: d.f.name, read: async () => d.text } } : {}) });
  }
  if (dumps.length && !graphs.some((f) => dumps.some((d) => d.graph === f.name)))
    warn([`${dumps[0].f.name} is a dump index: pick it together with its ${dumps[0].graph}`]);
  for (const f of files.filter((x) => x.name.endsWith('.jsonl'))) {
    const root = uniqueRoot(f.name.replace(/\.jsonl$/, ''));
    await addRunFiles([{ path: f.name.includes('text') ? 'text.jsonl' : f.name.includes('histo') ? 'histograms.jsonl' : 'scalars.jsonl', read: () => f.text() }], root, 'file');
  }
  return graphs.length ? state.graphs.find((g) => g.key === `file:${graphs[0].name}:${graphs[0].size}:${graphs[0].lastModified}`) : null;
}

// ----- graph tab -----

function refreshGraphSelect() {
  const sel = $('graph-select');
  sel.replaceChildren();
  for (const g of state.graphs) {
    const o = document.createElement('option');
    o.value = g.key;
    o.textContent = g.label;
    sel.appendChild(o);
  }
  sel.hidden = state.graphs.length === 0;
  if (state.current) sel.value = state.current;
}

function isDumpIndex(text) {
  try {
    const j = JSON.parse(text);
    return j !== null && typeof j === 'object' && j.format === 'xflow-dump';
  } catch {
    return false;
  }
}

async function showGraph(key) {
  const entry = state.graphs.find((g) => g.key === key);
  if (!entry) return;
  state.current = key;
  refreshGraphSelect();
  document.body.dataset.graphState = 'loading';
  $('status').textContent = `reading ${entry.label}…`;
  const t0 = performance.now();
  try {
    const text = await entry.read();
    const t1 = performance.now();
    const json = parseGraph(text, entry.label);
    const t2 = performance.now();
    const model = new GraphModel(json, entry.label);
    document.body.dataset.dumpState = 'none';
    if (entry.dump) {
      try {
        const text = await entry.dump.read();
        if (!entry.dump.optional || isDumpIndex(text)) {
          model.attachDump(text, entry.dump.label);
          document.body.dataset.dumpState = 'ready';
        }
      } catch (e) {
        document.body.dataset.dumpState = 'error';
        warn([`The dump is not shown. ${e.message}`]);
      }
    }
    const t3 = performance.now();
    state.model = model;
    $('graph-area').querySelector('.empty-hint').hidden = true;
    const colorSel = $('color-mode');
    for (const o of colorSel.options) o.disabled = o.value !== 'category' && !model.profile;
    if (!model.profile && colorSel.value !== 'category') colorSel.value = 'category';
    view.colorMode = colorSel.value;
    view.setModel(model);
    showDetails(null);
    document.body.dataset.graphState = 'ready';
    const t4 = performance.now();
    document.body.dataset.graphMs = String(Math.round(t4 - t0));
    document.body.dataset.graphTimings = `read ${Math.round(t1 - t0)} ms, parse ${Math.round(t2 - t1)} ms, model ${Math.round(t3 - t2)} ms, layout and draw ${Math.round(t4 - t3)} ms`;
    if ($('message').dataset.kind === 'error') clearMessage();
  } catch (e) {
    state.model = null;
    view.clear();
    document.body.dataset.graphState = 'error';
    $('graph-area').querySelector('.empty-hint').hidden = false;
    $('status').textContent = '';
    showMessage(e instanceof GraphError ? `Cannot show the graph. ${e.message}` : `Cannot read ${entry.label}: ${e.message}`, 'error');
  }
}

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') e.className = v;
    else if (k === 'onclick') e.addEventListener('click', v);
    else e.setAttribute(k, v);
  }
  for (const c of children) if (c !== null && c !== undefined) e.append(c instanceof Node ? c : String(c));
  return e;
}

function table(rows) {
  return el('table', {}, ...rows.map(([k, v]) => el('tr', {}, el('td', { class: 'k' }, k), el('td', {}, v))));
}

function sourceLocation(file, line) {
  if (!file) return el('span', { class: 'muted' }, 'unknown');
  return el('span', { class: 'mono source-location', title: file }, `${baseOf(file)}:${line}`);
}

// A link that shows an item (expanding the scopes around it).
function itemLink(itemId, text) {
  return el('a', { onclick: () => goTo(itemId), 'data-goto': itemId }, text);
}

function itemName(item) {
  if (item.kind === 'op') return (item.node.meta && item.node.meta.scope) || item.node.op;
  return item.label;
}

function producerLink(vid) {
  const v = state.model.json.values[vid];
  if (v.kind === 'node_output') {
    const n = state.model.json.nodes[v.producer];
    return itemLink('n' + v.producer, (n.meta && n.meta.scope) || n.op);
  }
  return itemLink('v' + vid, v.kind === 'placeholder' ? v.name || `input ${vid}` : `constant ${vid}`);
}

function valueRow(vid, withProducer) {
  const m = state.model;
  const v = m.json.values[vid];
  const li = el('li', { 'data-value': vid }, el('span', { class: 'mono value-spec' }, specOf(v)), ` · value ${vid} · ${humanBytes(valueBytes(v))}`);
  if (withProducer) li.append(' · from ', producerLink(vid));
  else {
    const cons = m.consumers[vid];
    if (cons.length) {
      li.append(' → ');
      cons.slice(0, 6).forEach((nid, i) => {
        if (i) li.append(', ');
        const n = m.json.nodes[nid];
        li.append(itemLink('n' + nid, (n.meta && n.meta.scope) || n.op));
      });
      if (cons.length > 6) li.append(` and ${cons.length - 6} more`);
    }
    const outs = m.json.outputs.map((o, k) => (o === vid ? k : -1)).filter((k) => k >= 0);
    for (const k of outs) li.append(' → ', itemLink('o' + k, `output ${k}`));
  }
  return li;
}

function guardsFor(vids) {
  const m = state.model;
  const gs = m.guards.filter((g) => vids.includes(g.value));
  if (!gs.length) return null;
  return [el('h4', {}, 'Guards'), ...gs.map((g) => el('div', { class: 'guard' },
    'host read at ', sourceLocation(g.file, g.line), ` expects ${shapeStr(g.shape || [])} ${g.dtype || ''} `,
    ...(g.shape && g.dtype ? [el('span', { class: 'mono' }, previewOf({ dtype: g.dtype, shape: g.shape, data: g.expected }))] : [])))];
}

function previewOf(v) {
  const d = decodeConstant(v, 8);
  if (!d) return '';
  const vals = d.values.map((x) => (typeof x === 'number' && !Number.isInteger(x) ? Number(x.toPrecision(6)) : x));
  return `[${vals.join(', ')}${d.total > vals.length ? ', …' : ''}]`;
}

function provenanceFor(nodeIds) {
  const m = state.model;
  const ps = m.provenance.filter((p) => Array.isArray(p.nodes) && p.nodes.some((n) => nodeIds.includes(n)));
  if (!ps.length) return null;
  return [el('h4', {}, 'Provenance'), el('ul', {}, ...ps.slice(0, 50).map((p) => el('li', {}, el('b', {}, `${p.pass} ${p.action}`), p.detail ? `: ${p.detail}` : '')))];
}

function profileRows(box) {
  const m = state.model;
  if (!m.profile) return null;
  const p = m.profileOf(box);
  if (!p) return null;
  const rows = [['time', humanSeconds(p.seconds)], ['bytes written', humanBytes(p.bytes)]];
  if (box.kind === 'op') {
    const e = m.profile.byNode.get(box.item.node.id);
    if (e) {
      rows.push(['plan step', `${e.step}${e.fused ? ' (fused)' : ''}`]);
      const step = m.profile.steps.find((s) => s && s.step === e.step);
      if (step && e.fused && Array.isArray(step.nodes)) {
        const group = el('span', {});
        step.nodes.slice(0, 12).forEach((nid, i) => {
          const n = m.json.nodes[nid];
          if (!n) return;
          if (i) group.append(', ');
          group.append(itemLink('n' + nid, n.op));
        });
        if (step.nodes.length > 12) group.append(` and ${step.nodes.length - 12} more`);
        rows.push(['fused with', group]);
        rows.push(['group time', humanSeconds(step.seconds || 0)]);
      }
    }
  }
  if (m.profile.seconds) rows.push(['share of run', `${((100 * p.seconds) / m.profile.seconds).toFixed(1)} %`]);
  return [el('h4', {}, 'Profile'), table(rows)];
}

function showDetails(box) {
  const panel = $('side-panel');
  panel.replaceChildren();
  const m = state.model;
  if (!m) return;
  if (!box) {
    const j = m.json;
    const consts = j.values.filter((v) => v.kind === 'constant');
    panel.append(el('h3', {}, baseOf(m.source)), el('div', { class: 'sub' }, m.source),
      table([
        ['nodes', j.nodes.length],
        ['values', j.values.length],
        ['parameters', `${consts.reduce((a, v) => a + v.shape.reduce((x, y) => x * y, 1), 0)} elements in ${consts.length} constants`],
        ['inputs', j.inputs.map((v) => specOf(j.values[v])).join(', ') || 'none'],
        ['outputs', j.outputs.map((v) => specOf(j.values[v])).join(', ') || 'none'],
        ['guards', m.guards.length],
        ['provenance', m.provenance.length],
        ...(m.profile ? [['profile', `${humanSeconds(m.profile.seconds)}, peak ${humanBytes(m.profile.peak)}`]] : []),
        ...(m.fused.length ? [['fused groups', `${m.fused.length} (${m.fused.reduce((a, f) => a + f.nodes.length, 0)} ops)`]] : []),
        ...(m.dump ? [['dump', `${m.dump.values} values, ${m.dump.bad.size} nodes or inputs with NaN or Inf`]] : []),
        ...(m.dump && m.dump.error ? [['run error', m.dump.error]] : []),
      ]),
      el('p', { class: 'muted' }, 'Click a node for details; + and − open and close name scopes.'));
    return;
  }
  panel.dataset.selected = box.id;
  if (box.kind === 'op') {
    const n = box.item.node;
    const meta = n.meta || {};
    panel.append(el('h3', { class: 'detail-op' }, n.op), el('div', { class: 'sub' }, meta.scope || '(no scope)'));
    panel.append(table([
      ['node', `#${n.id}`],
      ['category', opCategory(n.op)],
      ['source', sourceLocation(meta.file, meta.line)],
    ]));
    const attrs = Object.entries(n.attrs || {});
    panel.append(el('h4', {}, 'Attributes'), attrs.length ? table(attrs.map(([k, v]) => [k, el('span', { class: 'mono' }, JSON.stringify(v))])) : el('div', { class: 'muted' }, 'none'));
    panel.append(el('h4', {}, 'Inputs'), el('ul', { class: 'inputs' }, ...n.inputs.map((v) => valueRow(v, true))));
    panel.append(el('h4', {}, 'Outputs'), el('ul', { class: 'outputs' }, ...n.outputs.map((v) => valueRow(v, false))));
    for (const part of [dumpRows(box.item), fusedRows(n.id), guardsFor(n.outputs), provenanceFor([n.id]), profileRows(box)]) if (part) panel.append(...part);
    return;
  }
  if (box.kind === 'fused') {
    showFusedDetails(box.fused);
    return;
  }
  if (box.kind === 'group' || box.kind === 'group-open') {
    const g = box.scope;
    const open = view.expanded.has(g.path);
    panel.append(el('h3', { class: 'detail-group' }, g.name), el('div', { class: 'sub' }, `${g.members.length} repeated scopes in ${g.parent.path || '(top level)'}`));
    panel.append(table([['ops', g.total], ['members', g.members.map((mm) => mm.name).join(', ')], ...badRows(g)]));
    panel.append(el('button', { class: 'btn', onclick: () => view.toggleScope(g.path) }, open ? 'Collapse' : 'Expand'));
    panel.append(el('h4', {}, 'Ops inside'), table(m.opHistogram(g).slice(0, 30).map(([op, c]) => [op, c])));
    return;
  }
  if (box.kind === 'scope' || box.kind === 'scope-open') {
    const s = box.scope;
    const open = view.expanded.has(s.path);
    panel.append(el('h3', {}, s.name), el('div', { class: 'sub' }, s.path));
    panel.append(table([['ops', s.total], ['sub-scopes', s.children.size], ...badRows(s)]));
    panel.append(el('button', { class: 'btn', onclick: () => view.toggleScope(s.path) }, open ? 'Collapse' : 'Expand'));
    const hist = m.opHistogram(s);
    panel.append(el('h4', {}, 'Ops inside'), table(hist.slice(0, 30).map(([op, c]) => [op, c])));
    const ids = [];
    m.forEachOp(s, (it) => ids.push(it.node.id));
    for (const part of [provenanceFor(ids), profileRows({ kind: 'scope', scope: s })]) if (part) panel.append(...part);
    return;
  }
  // A value: input, constant or output.
  const v = box.item.value;
  const title = box.kind === 'const' ? `constant ${v.id}` : box.item.label;
  panel.append(el('h3', {}, title), el('div', { class: 'sub' }, v.kind));
  const rows = [['dtype', v.dtype], ['shape', el('span', { class: 'mono value-spec' }, shapeStr(v.shape))], ['bytes', humanBytes(valueBytes(v))], ['value id', v.id]];
  if (box.kind === 'const') rows.push(['data', el('span', { class: 'mono' }, previewOf(v))]);
  panel.append(table(rows));
  if (box.kind === 'output') panel.append(el('h4', {}, 'Produced by'), el('ul', {}, valueRow(v.id, true)));
  else panel.append(el('h4', {}, 'Used by'), el('ul', {}, valueRow(v.id, false)));
  const g = guardsFor([v.id]);
  if (g) panel.append(...g);
  const d = box.kind === 'input' ? dumpRows(box.item) : null;
  if (d) panel.append(...d);
}

// The dumped statistics of an item's values (docs/viewer.md, "Dumps"): one table per value.
function fmtStat(x) {
  return x === null ? '–' : String(Number(x.toPrecision(6)));
}
function dumpRows(item) {
  const stats = state.model.dumpOf(item);
  if (!stats.length) return null;
  const parts = [el('h4', {}, 'Dumped values')];
  for (const s of stats) {
    const rows = [['min', fmtStat(s.min)], ['max', fmtStat(s.max)], ['mean', fmtStat(s.mean)], ['NaN', s.nan], ['+Inf', s.posInf], ['-Inf', s.negInf], ['elements', s.count]];
    if (s.file) rows.push(['file', el('span', { class: 'mono' }, s.file)]);
    parts.push(el('div', { class: `dump-summary${s.bad ? ' bad' : ''}`, 'data-value': s.value }, el('div', { class: 'sub' }, `value ${s.value}${s.fused ? ' (computed in a fused step)' : ''}`), table(rows)));
  }
  return parts;
}

// With a dump: how many ops of a scope (or group) have a value with NaN or Inf.
function badRows(scope) {
  const m = state.model;
  if (!m.dump) return [];
  let bad = 0;
  m.forEachOp(scope, (it) => { bad += m.dump.bad.has(it.id) ? 1 : 0; });
  return [['NaN/Inf', bad ? `in ${bad} ops` : 'none']];
}

function fusedRows(nodeId) {
  const f = state.model.fusedByNode.get(nodeId);
  if (!f) return null;
  return [el('h4', {}, 'Fused group'), el('div', {}, el('a', { onclick: () => view.showFused(f.id), 'data-fused-link': f.id }, fusedLabel(f)))];
}

function showFusedDetails(f) {
  const m = state.model;
  const panel = $('side-panel');
  panel.append(el('h3', { class: 'detail-fused' }, f.name), el('div', { class: 'sub' }, `${f.nodes.length} ops in one ${f.kernel ? f.kernel + ' ' : ''}kernel`));
  const rows = [['ops', f.nodes.length]];
  if (f.step !== null) rows.push(['plan step', f.step]);
  if (f.kernel) rows.push(['kernel', f.kernel]);
  if (f.kernelHash) rows.push(['kernel cache', `fused_${f.kernelHash}.so`]);
  if (typeof f.seconds === 'number') rows.push(['time', humanSeconds(f.seconds)]);
  if (typeof f.bytes === 'number') rows.push(['bytes written', humanBytes(f.bytes)]);
  if (m.dump) {
    const bad = f.nodes.filter((id) => m.dump.bad.has('n' + id)).length;
    rows.push(['NaN/Inf', bad ? `in ${bad} of its ops` : 'none']);
  }
  panel.append(table(rows));
  panel.append(el('h4', {}, 'Ops'), el('ul', { class: 'fused-ops' }, ...f.nodes.map((id) => {
    const n = m.json.nodes[id];
    return el('li', {}, itemLink('n' + id, (n.meta && n.meta.scope) || n.op), ` · ${n.op}`);
  })));
  const p = provenanceFor(f.nodes);
  if (p) panel.append(...p);
}

function goTo(itemId) {
  if (!state.model || !state.model.items.has(itemId)) return;
  view.reveal(itemId);
  view.select(itemId, { center: true });
}

// ----- search -----

function searchItems(q) {
  q = q.trim().toLowerCase();
  if (!q || !state.model) return [];
  const out = [];
  for (const it of state.model.items.values()) {
    const name = itemName(it).toLowerCase();
    const op = it.kind === 'op' ? it.node.op.toLowerCase() : '';
    if (name.includes(q) || op === q || (op && op.includes(q))) out.push(it);
    if (out.length >= 2000) break;
  }
  // Exact op matches and short names first.
  out.sort((a, b) => (b.kind === 'op' && b.node.op === q) - (a.kind === 'op' && a.node.op === q) || itemName(a).length - itemName(b).length);
  return out;
}

function runSearch() {
  const q = $('search').value;
  const box = $('search-results');
  const found = searchItems(q);
  box.replaceChildren();
  if (!q.trim()) {
    box.hidden = true;
    view.setMatches([]);
    return found;
  }
  box.hidden = false;
  if (!found.length) box.append(el('div', { class: 'more' }, 'no match'));
  for (const it of found.slice(0, 40)) {
    const row = el('div', { 'data-goto': it.id }, el('span', { class: 'op' }, it.kind === 'op' ? it.node.op : it.kind), itemName(it));
    row.addEventListener('mousedown', (ev) => { ev.preventDefault(); goTo(it.id); box.hidden = true; });
    box.append(row);
  }
  if (found.length > 40) box.append(el('div', { class: 'more' }, `${found.length - 40} more…`));
  // Highlight what is on screen: a match inside a collapsed scope highlights the scope.
  const reps = new Set(found.map((it) => state.model.repOf(it, view.expanded)));
  view.setMatches([...reps]);
  return found;
}

// ----- scalars tab -----

function renderRuns() {
  const list = $('run-list');
  list.replaceChildren();
  for (const r of state.runs.values()) {
    const cb = el('input', { type: 'checkbox' });
    cb.checked = r.visible;
    cb.addEventListener('change', () => { r.visible = cb.checked; renderPlots(); });
    list.append(el('label', { 'data-run': r.name }, cb, el('i', { style: `background:${r.color}` }), `${r.name} (${r.scalars.length})`));
  }
}

function renderPlots() {
  const plots = $('plots');
  plots.replaceChildren();
  const filter = $('tag-filter').value.trim().toLowerCase();
  const runs = [...state.runs.values()].filter((r) => r.visible);
  const tags = new Map();
  for (const r of runs)
    for (const e of r.scalars) {
      if (filter && !e.tag.toLowerCase().includes(filter)) continue;
      if (!tags.has(e.tag)) tags.set(e.tag, new Map());
      const byRun = tags.get(e.tag);
      if (!byRun.has(r.name)) byRun.set(r.name, []);
      byRun.get(r.name).push({ step: e.step, value: e.value, wall_time: e.wall_time });
    }
  if (!tags.size) {
    plots.append(el('p', { class: 'muted' }, state.runs.size ? 'No scalars match.' : 'No scalars yet: open a run folder with a scalars.jsonl.'));
  }
  const overlay = runs.length > 1;
  // Tags are grouped by what comes before their first '/' ("train/loss" is in "train").
  let group = null;
  for (const tag of [...tags.keys()].sort()) {
    const g = tag.includes('/') ? tag.slice(0, tag.indexOf('/')) : '';
    if (g !== group) {
      group = g;
      if (g) plots.append(el('h4', { class: 'tag-group' }, g));
    }
    // A series is ordered by step, then wall time (several writers may interleave lines).
    const series = [...tags.get(tag).entries()].map(([run, points]) => ({
      run, color: state.runs.get(run).color, points: points.sort((a, b) => a.step - b.step || (a.wall_time || 0) - (b.wall_time || 0)),
    }));
    plots.append(plotTag(tag, series, { legend: overlay }));
  }
  const texts = $('texts');
  texts.replaceChildren();
  const rows = [];
  for (const r of runs) for (const t of r.texts) rows.push([r.name, t.tag, t.step, t.text]);
  if (rows.length) {
    texts.append(el('h4', {}, 'Text'), el('table', {}, el('tr', {}, el('th', {}, 'run'), el('th', {}, 'tag'), el('th', {}, 'step'), el('th', {}, 'text')),
      ...rows.slice(-200).map(([run, tag, step, text]) => el('tr', {}, el('td', {}, run), el('td', {}, tag), el('td', {}, step), el('td', {}, el('pre', {}, text))))));
  }
  renderHistograms(runs, filter);
  document.body.dataset.scalarsState = tags.size ? 'ready' : 'empty';
}

// Histograms: per tag, the latest step's histogram of each visible run, tags grouped like plots.
function renderHistograms(runs, filter) {
  const box = $('histograms');
  box.replaceChildren();
  const items = [];
  for (const r of runs)
    for (const h of latestHistograms(r.histograms)) {
      if (filter && !h.tag.toLowerCase().includes(filter)) continue;
      items.push({ run: r, h });
    }
  items.sort((a, b) => (a.h.tag < b.h.tag ? -1 : a.h.tag > b.h.tag ? 1 : 0));
  if (items.length) box.append(el('h4', { class: 'tag-group' }, 'Histograms (latest step)'));
  const several = runs.filter((r) => r.histograms.length).length > 1;
  for (const { run, h } of items) box.append(plotHistogram(h, { run: run.name, color: run.color, showRun: several }));
  document.body.dataset.histogramsState = items.length ? 'ready' : 'empty';
}

function refreshScalars() {
  renderRuns();
  renderPlots();
}

// ----- tabs, toolbar, startup -----

function setTab(name) {
  for (const b of document.querySelectorAll('.tab')) b.classList.toggle('active', b.dataset.tab === name);
  $('graph-tab').hidden = name !== 'graph';
  $('scalars-tab').hidden = name !== 'scalars';
  if (name === 'graph' && view && state.model && !view.fittedOnce) {
    view.fit();
    view.fittedOnce = true;
  }
}

function download(blob, name) {
  const a = document.createElement('a');
  a.href = URL.createObjectURL(blob);
  a.download = name;
  document.body.appendChild(a);
  a.click();
  setTimeout(() => { URL.revokeObjectURL(a.href); a.remove(); }, 1000);
}

function exportName(ext) {
  const entry = state.graphs.find((g) => g.key === state.current);
  const base = entry ? entry.label.replace(/\.json$/, '').replace(/[^A-Za-z0-9._-]+/g, '_') : 'graph';
  return `${base}.${ext}`;
}

async function afterSourcesChanged(preferKey = null) {
  refreshGraphSelect();
  refreshScalars();
  const want = preferKey || (state.current && state.graphs.some((g) => g.key === state.current) ? null : state.graphs[0] && state.graphs[0].key);
  if (want) await showGraph(want);
  else if (!state.graphs.length && state.runs.size) setTab('scalars');
}

async function reloadServed() {
  // Keep the run's colors and visibility; read the listing and every event file again.
  const keep = new Map([...state.runs.values()].map((r) => [r.name, { color: r.color, visible: r.visible }]));
  state.graphs = state.graphs.filter((g) => !g.key.startsWith('served:'));
  for (const [name, r] of [...state.runs.entries()]) if (r.origin === 'served') state.runs.delete(name);
  await loadServed();
  for (const r of state.runs.values()) if (keep.has(r.name)) Object.assign(r, keep.get(r.name));
  refreshGraphSelect();
  refreshScalars();
  if (state.current) await showGraph(state.current);
}

function install() {
  const style = document.createElement('style');
  style.textContent = GRAPH_CSS;
  document.head.appendChild(style);
  view = new GraphView($('graph-area'), {
    onSelect: showDetails,
    onStatus: (s) => { $('status').textContent = s; },
  });
  for (const b of document.querySelectorAll('.tab')) b.addEventListener('click', () => setTab(b.dataset.tab));
  $('fit').addEventListener('click', () => view.fit());
  $('collapse-all').addEventListener('click', () => {
    if (!state.model) return;
    view.expanded.clear();
    view.relayout();
    view.fit();
  });
  $('color-mode').addEventListener('change', (e) => view.setColorMode(e.target.value));
  $('graph-select').addEventListener('change', (e) => showGraph(e.target.value));
  $('reload').addEventListener('click', () => reloadServed().catch((e) => showMessage(String(e.message || e))));
  $('file-input').addEventListener('change', async (e) => {
    try {
      const g = await addFiles(e.target.files);
      await afterSourcesChanged(g ? g.key : null);
    } catch (err) {
      showMessage(`Cannot open the files: ${err.message}`);
    }
    e.target.value = '';
  });
  $('dir-input').addEventListener('change', async (e) => {
    try {
      const before = new Set(state.graphs.map((g) => g.key));
      await addFolder(e.target.files);
      const added = state.graphs.find((g) => !before.has(g.key));
      await afterSourcesChanged(added ? added.key : null);
    } catch (err) {
      showMessage(`Cannot open the folder: ${err.message}`);
    }
    e.target.value = '';
  });
  $('export-svg').addEventListener('click', () => {
    if (!state.model) return;
    download(new Blob([view.svgText()], { type: 'image/svg+xml' }), exportName('svg'));
  });
  $('export-png').addEventListener('click', async () => {
    if (!state.model) return;
    try {
      download(await view.pngBlob(), exportName('png'));
    } catch (e) {
      showMessage(`PNG export failed: ${e.message}`);
    }
  });
  let timer = null;
  $('search').addEventListener('input', () => { clearTimeout(timer); timer = setTimeout(runSearch, 120); });
  $('search').addEventListener('keydown', (e) => {
    if (e.key === 'Enter') {
      const found = runSearch();
      if (found.length) { goTo(found[0].id); $('search-results').hidden = true; }
    } else if (e.key === 'Escape') {
      $('search').value = '';
      runSearch();
    }
  });
  $('search').addEventListener('blur', () => setTimeout(() => { $('search-results').hidden = true; }, 150));
  $('tag-filter').addEventListener('input', renderPlots);
  document.addEventListener('keydown', (e) => {
    if (e.target.tagName === 'INPUT' || e.target.tagName === 'SELECT') return;
    if (e.key === 'f' || e.key === 'F') view.fit();
    if (e.key === '/') { e.preventDefault(); $('search').focus(); }
  });
  // Files dropped anywhere on the page.
  window.addEventListener('dragover', (e) => e.preventDefault());
  window.addEventListener('drop', async (e) => {
    e.preventDefault();
    if (!e.dataTransfer || !e.dataTransfer.files.length) return;
    const g = await addFiles(e.dataTransfer.files);
    await afterSourcesChanged(g ? g.key : null);
  });
  window.addEventListener('resize', () => { if (state.model) view.applyZoom(); });
}

async function start() {
  install();
  const params = new URLSearchParams(location.search);
  if (location.protocol === 'http:' || location.protocol === 'https:') {
    if (await loadServed()) {
      const want = params.get('graph');
      const chosen = want ? state.graphs.find((g) => g.path === want) : state.graphs[0];
      if (want && !chosen) showMessage(`The run has no graph '${want}'.`);
      refreshGraphSelect();
      refreshScalars();
      if (chosen) await showGraph(chosen.key);
      else if (!want && !state.graphs.length) document.body.dataset.graphState = 'empty';
      // New scalars appear while a run goes on: read them again every 15 s (only redraw on change).
      setInterval(pollScalars, 15000);
    }
  }
  if (params.get('tab') === 'scalars') setTab('scalars');
  window.xflowViewer = { state, view, showGraph, goTo };
}

async function pollScalars() {
  if (!state.served || document.hidden) return;
  try {
    const index = JSON.parse(await fetchText('run/index.json'));
    let changed = false;
    for (const f of index.files || []) {
      if (baseOf(f.path) !== 'scalars.jsonl') continue;
      const key = f.path + ':' + f.size;
      if (state.scalarText.get(f.path) === key) continue;
      state.scalarText.set(f.path, key);
      const text = await fetchText('run/' + f.path.split('/').map(encodeURIComponent).join('/'));
      const root = index.run || 'run';
      const run = runFor(dirOf(f.path) ? `${root}/${dirOf(f.path)}` : root);
      const before = run.scalars.length;
      run.scalars = parseScalars(text, `${run.name}/scalars.jsonl`).events;
      if (run.scalars.length !== before) changed = true;
    }
    if (changed) refreshScalars();
  } catch {
    // The server went away: keep what is shown.
  }
}

start().catch((e) => showMessage(`The viewer failed to start: ${e.message}`));

