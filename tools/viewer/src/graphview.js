// The graph panel: lays out what is expanded with dagre, draws it as SVG, pans and zooms, selects,
// expands and collapses scopes, and exports SVG and PNG.
import dagre from '@dagrejs/dagre';

import { CATEGORY_COLORS, KIND_COLORS, heatScale, opCategory } from './colors.js';
import { shapeStr, specOf } from './model.js';

const SVGNS = 'http://www.w3.org/2000/svg';

// The drawing's own style: used on the page and embedded in exported SVG files.
export const GRAPH_CSS = `
.xg { font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; font-size: 12px; }
.xg .cluster > rect.cbox { fill: #f7f5fb; stroke: #b9acd3; stroke-width: 1; rx: 6; }
.xg .cluster.depth-odd > rect.cbox { fill: #fbfaf4; stroke: #cbbf8f; }
.xg .cluster-label { font-weight: 600; fill: #4a3f66; }
.xg .toggle rect { fill: #fff; stroke: #8a7bb0; rx: 3; }
.xg .toggle text { font-weight: 700; fill: #4a3f66; text-anchor: middle; }
.xg .node rect.box { stroke: #555; stroke-width: 1; }
.xg .node.op rect.box { rx: 5; }
.xg .node.scope rect.box { stroke: #6f5fa0; stroke-width: 1.5; rx: 8; }
.xg .node.group rect.box3 { fill: #f4eefa; stroke: #6f5fa0; stroke-width: 1; rx: 8; }
.xg .cluster.group > rect.cbox { fill: none; stroke: #6f5fa0; stroke-dasharray: 5 3; }
.xg .node.scope rect.box2 { fill: none; stroke: #6f5fa0; stroke-width: 0.8; rx: 6; }
.xg .node.output rect.box { stroke-width: 2; }
.xg .node text { fill: #222; text-anchor: middle; }
.xg .node text.l1 { font-weight: 600; }
.xg .node text.l2 { fill: #555; font-size: 11px; }
.xg .node.selected rect.box { stroke: #e6550d; stroke-width: 3; }
.xg .node.match rect.box { stroke: #3182bd; stroke-width: 3; }
.xg .cluster.fused > rect.fbox { fill: #fff3e6; fill-opacity: 0.55; stroke: #e6550d; stroke-width: 1.5; stroke-dasharray: 6 3; rx: 6; }
.xg .fused-outline > rect.fbox { fill: none; stroke: #e6550d; stroke-width: 1.5; stroke-dasharray: 6 3; rx: 6; pointer-events: stroke; }
.xg .fused-outline > rect.fhit { fill: none; stroke: transparent; stroke-width: 8; pointer-events: stroke; }
.xg .fused-label { font-size: 11px; font-weight: 600; fill: #a63603; cursor: pointer; }
.xg .cluster.fused.selected > rect.fbox, .xg .fused-outline.selected > rect.fbox { stroke-width: 3; stroke-dasharray: none; }
.xg .node.bad rect.box, .xg .node.bad path.box-shape { stroke: #d62728; stroke-width: 3; }
.xg .node.bad text.badge { fill: #fff; font-size: 9px; font-weight: 700; text-anchor: middle; }
.xg .node.bad rect.badge-bg { fill: #d62728; rx: 3; }
.xg .edge { fill: none; stroke: #8c8c8c; stroke-opacity: 0.85; }
.xg .edge.hl { stroke: #e6550d; stroke-opacity: 1; }
.xg .edge-label { fill: #555; font-size: 10px; text-anchor: middle; }
.xg .edge-label-bg { fill: #ffffff; fill-opacity: 0.85; }
`;

let measureCtx = null;
function textWidth(s, bold = false) {
  if (!measureCtx) measureCtx = document.createElement('canvas').getContext('2d');
  measureCtx.font = `${bold ? '600 ' : ''}12px -apple-system, "Segoe UI", Helvetica, Arial, sans-serif`;
  return measureCtx.measureText(s).width;
}

function el(name, attrs, parent) {
  const e = document.createElementNS(SVGNS, name);
  if (attrs) for (const k in attrs) e.setAttribute(k, attrs[k]);
  if (parent) parent.appendChild(e);
  return e;
}

export function humanBytes(b) {
  const u = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (b >= 1024 && i < u.length - 1) { b /= 1024; i++; }
  return `${i ? b.toFixed(1) : b} ${u[i]}`;
}

export function humanSeconds(s) {
  if (s >= 1) return `${s.toFixed(3)} s`;
  if (s >= 1e-3) return `${(s * 1e3).toFixed(3)} ms`;
  return `${(s * 1e6).toFixed(1)} µs`;
}

// "fused step 7 · 4 ops · generated kernel 9c1f0e5b2a7d4c38" (the kernel cache's key, when generated)
export function fusedLabel(f) {
  return `${f.name} · ${f.nodes.length} ops${f.kernel ? ` · ${f.kernel} kernel` : ''}${f.kernelHash ? ` ${f.kernelHash}` : ''}`;
}

// The text lines of a box.
function boxLines(box) {
  switch (box.kind) {
    case 'op': {
      const it = box.item;
      return it.leaf && it.leaf !== it.label ? [it.label, it.leaf] : [it.label];
    }
    case 'input': return [box.item.label, specOf(box.item.value)];
    case 'const': return [`const ${shapeStr(box.item.value.shape)}`];
    case 'output': return [box.item.label, specOf(box.item.value)];
    case 'scope': return [box.scope.name, `${box.scope.total} ops`];
    case 'group': return [box.scope.name, `${box.scope.total} ops`];
    default: return ['?'];
  }
}

export class GraphView {
  constructor(container, { onSelect, onStatus } = {}) {
    this.container = container;
    this.onSelect = onSelect || (() => {});
    this.onStatus = onStatus || (() => {});
    this.model = null;
    this.expanded = new Set();
    this.colorMode = 'category';
    this.selected = null;
    this.matches = new Set();
    this.zoom = { k: 1, x: 0, y: 0 };
    this.svg = el('svg', { class: 'xg graph-svg', id: 'graph-svg' });
    container.appendChild(this.svg);
    const defs = el('defs', null, this.svg);
    // Arrow heads in three sizes, for thin, medium and thick edges.
    for (const [name, size] of [['s', 8], ['m', 11], ['l', 15]]) {
      const marker = el('marker', { id: `arrow-${name}`, viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: size, markerHeight: size, orient: 'auto-start-reverse', markerUnits: 'userSpaceOnUse' }, defs);
      el('path', { d: 'M0,0 L10,5 L0,10 z', fill: '#6f6f6f' }, marker);
    }
    this.viewport = el('g', { class: 'viewport' }, this.svg);
    this.installInteraction();
  }

  setModel(model) {
    this.model = model;
    this.expanded = model.initialExpanded();
    this.selected = null;
    this.matches = new Set();
    this.relayout();
    this.fit();
  }

  clear() {
    this.model = null;
    this.viewport.replaceChildren();
    this.layoutResult = null;
  }

  // ----- layout -----

  relayout(anchorId = null) {
    const before = anchorId ? this.screenPosOf(anchorId) : null;
    const t0 = performance.now();
    this.current = this.model.view(this.expanded);
    this.layoutResult = this.computeLayout(this.current);
    this.render();
    const ms = performance.now() - t0;
    if (before) {
      const after = this.screenPosOf(anchorId);
      if (after) {
        this.zoom.x += before.x - after.x;
        this.zoom.y += before.y - after.y;
        this.applyZoom();
      }
    }
    this.svg.dataset.boxes = String(this.current.boxes.size);
    this.svg.dataset.layoutMs = String(Math.round(ms));
    const simple = this.layoutResult.simple ? ' (plain layered layout: too many boxes for dagre)' : '';
    this.onStatus(`${this.model.json.nodes.length} nodes · showing ${this.current.boxes.size} boxes in ${this.current.clusters.size} open scopes · layout ${Math.round(ms)} ms${simple}`);
  }

  computeLayout(view) {
    // dagre's crossing minimization grows much faster than linearly; past a few thousand boxes
    // (a large graph without name scopes, or everything expanded) a plain layered layout keeps
    // the page responsive.
    if (view.boxes.size > SIMPLE_LAYOUT_BOXES) return simpleLayout(view, (b) => this.boxSize(b));
    const g = new dagre.graphlib.Graph({ compound: true });
    const big = view.boxes.size > 600;
    g.setGraph({ rankdir: 'TB', nodesep: 18, ranksep: big ? 28 : 36, edgesep: 8, marginx: 24, marginy: 24 });
    g.setDefaultEdgeLabel(() => ({}));
    for (const c of view.clusters.values()) g.setNode(c.id, { cluster: true });
    for (const c of view.clusters.values()) if (c.parent && view.clusters.has(c.parent)) g.setParent(c.id, c.parent);
    for (const b of view.boxes.values()) {
      g.setNode(b.id, this.boxSize(b));
      if (b.parent && view.clusters.has(b.parent)) g.setParent(b.id, b.parent);
    }
    for (const e of view.edges) {
      const lab = big ? {} : { width: textWidth(e.label) * 0.85 + 6, height: 14, labelpos: 'c' };
      g.setEdge(e.from, e.to, { ...lab, weight: 1, minlen: 1 });
    }
    try {
      dagre.layout(g);
    } catch (e) {
      // dagre recurses along paths: a chain of a few thousand boxes overflows the stack.
      if (!(e instanceof RangeError)) throw e;
      return simpleLayout(view, (b) => this.boxSize(b));
    }
    return g;
  }

  boxSize(b) {
    const lines = boxLines(b);
    const w = Math.max(...lines.map((l, i) => textWidth(l, i === 0))) + (b.kind === 'scope' || b.kind === 'group' ? 44 : 22);
    return { width: Math.max(w, 48), height: lines.length > 1 ? 40 : 28 };
  }

  // ----- drawing -----

  render() {
    const g = this.layoutResult;
    const view = this.current;
    const vp = this.viewport;
    vp.replaceChildren();
    const clustersG = el('g', { class: 'clusters' }, vp);
    const edgesG = el('g', { class: 'edges' }, vp);
    const labelsG = el('g', { class: 'edge-labels' }, vp);
    const nodesG = el('g', { class: 'nodes' }, vp);
    this.nodeEls = new Map();

    // By depth; an open group before the scopes it holds (they have the same depth); a fused
    // group after the scope it sits in.
    const order = (c) => (c.kind === 'fused' ? c.depth + 0.25 : c.scope.depth - (c.scope.isGroup ? 0.5 : 0));
    const clusters = [...view.clusters.values()].sort((a, b) => order(a) - order(b));
    this.fusedEls = new Map();
    const overlays = new Map(view.fused || []);
    for (const c of clusters) {
      const n = g.node(c.id);
      if (c.kind === 'fused') {
        // The plain layered layout has no clusters: the group is outlined instead.
        if (!n || !Number.isFinite(n.x)) overlays.set(c.id, { id: c.id, kind: 'fused', fused: c.fused, members: c.fused.nodes.map((id) => 'n' + id), partial: false });
        else this.drawFused(clustersG, c, n.x - n.width / 2, n.y - n.height / 2 - 14, n.width, n.height + 14, false);
        continue;
      }
      if (!n || !Number.isFinite(n.x)) continue;
      const x = n.x - n.width / 2, y = n.y - n.height / 2 - 14;
      const cg = el('g', { class: `cluster${c.scope.isGroup ? ' group' : ''} depth-${c.scope.depth % 2 ? 'odd' : 'even'}`, 'data-cluster': c.scope.path, 'data-id': c.id }, clustersG);
      el('rect', { class: 'cbox', x, y, width: n.width, height: n.height + 14 }, cg);
      const tg = el('g', { class: 'toggle', 'data-toggle': c.scope.path, transform: `translate(${x + 6},${y + 4})` }, cg);
      el('rect', { width: 14, height: 14 }, tg);
      el('text', { x: 7, y: 11.5 }, tg).textContent = '−';
      el('title', null, tg).textContent = `collapse ${c.scope.path}`;
      el('text', { class: 'cluster-label', x: x + 26, y: y + 15 }, cg).textContent = `${c.scope.name}  (${c.scope.total} ops)`;
    }

    // Fused groups whose members are not one cluster: an outline around the members on screen.
    for (const o of overlays.values()) {
      let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
      for (const id of o.members) {
        const n = g.node(id);
        if (!n || !Number.isFinite(n.x)) continue;
        x0 = Math.min(x0, n.x - n.width / 2); x1 = Math.max(x1, n.x + n.width / 2);
        y0 = Math.min(y0, n.y - n.height / 2); y1 = Math.max(y1, n.y + n.height / 2);
      }
      if (!Number.isFinite(x0)) continue;
      this.drawFused(clustersG, o, x0 - 8, y0 - 8, x1 - x0 + 16, y1 - y0 + 16, true);
    }

    this.edgeEls = [];
    for (const e of view.edges) {
      const ed = g.edge(e.from, e.to);
      if (!ed || !ed.points) continue;
      // Thicker for larger tensors, on one scale for every graph: 1 px up to a few hundred
      // bytes, +0.5 px per doubling past 1 KiB, at most 7 px.
      const width = Math.min(7, 1 + 0.5 * Math.log2(1 + e.bytes / 1024));
      const path = el('path', { class: 'edge', d: curve(ed.points), 'stroke-width': width.toFixed(2), 'marker-end': `url(#arrow-${width < 2.5 ? 's' : width < 4.5 ? 'm' : 'l'})`, 'data-from': e.from, 'data-to': e.to }, edgesG);
      el('title', null, path).textContent = `${e.label} · ${humanBytes(e.bytes)}`;
      this.edgeEls.push(path);
      if (Number.isFinite(ed.x) && ed.width) {
        el('rect', { class: 'edge-label-bg', x: ed.x - ed.width / 2, y: ed.y - 6, width: ed.width, height: 12, rx: 2 }, labelsG);
        el('text', { class: 'edge-label', x: ed.x, y: ed.y + 3.5 }, labelsG).textContent = e.label;
      }
    }

    const fill = this.fillFunction(view);
    for (const b of view.boxes.values()) {
      const n = g.node(b.id);
      if (!n) continue;
      const kind = b.kind;
      const ng = el('g', { class: kind === 'group' ? 'node scope group' : `node ${kind}`, 'data-id': b.id, transform: `translate(${n.x},${n.y})` }, nodesG);
      if (kind === 'op') ng.setAttribute('data-op', b.item.node.op);
      if (kind === 'scope' || kind === 'group') ng.setAttribute('data-scope', b.scope.path);
      if (kind === 'group') ng.setAttribute('data-group', b.scope.name);
      const w = n.width, h = n.height;
      if (kind === 'input') {
        el('path', { class: 'box-shape', d: `M${-w / 2},${-h / 2} H${w / 2} V${h / 2 - 6} L0,${h / 2} L${-w / 2},${h / 2 - 6} Z`, fill: fill(b), stroke: '#555' }, ng);
        el('rect', { class: 'box', x: -w / 2, y: -h / 2, width: w, height: h, fill: 'none', stroke: 'none' }, ng);
      } else {
        el('rect', { class: 'box', x: -w / 2, y: -h / 2, width: w, height: h, fill: fill(b) }, ng);
      }
      if (kind === 'group') {
        // A stack of boxes: two offset outlines behind the front one.
        for (const d of [4, 8]) el('rect', { class: 'box3', x: -w / 2 + d, y: -h / 2 - d, width: w, height: h }, ng).parentNode.insertBefore(ng.lastChild, ng.firstChild);
      }
      if (kind === 'scope' || kind === 'group') {
        el('rect', { class: 'box2', x: -w / 2 + 3, y: -h / 2 + 3, width: w - 6, height: h - 6 }, ng);
        const tg = el('g', { class: 'toggle', 'data-toggle': b.scope.path, transform: `translate(${w / 2 - 20},${-7})` }, ng);
        el('rect', { width: 14, height: 14 }, tg);
        el('text', { x: 7, y: 11.5 }, tg).textContent = '+';
        el('title', null, tg).textContent = `expand ${b.scope.path}`;
      }
      const lines = boxLines(b);
      const dx = kind === 'scope' || kind === 'group' ? -10 : 0;
      if (lines.length === 1) {
        el('text', { class: 'l1', x: dx, y: 4 }, ng).textContent = lines[0];
      } else {
        el('text', { class: 'l1', x: dx, y: -3 }, ng).textContent = lines[0];
        el('text', { class: 'l2', x: dx, y: 12 }, ng).textContent = lines[1];
      }
      el('title', null, ng).textContent = this.tooltip(b);
      if (this.model.isBad(b)) {
        // A value with NaN or Inf in the attached dump (for a closed scope: somewhere inside).
        ng.classList.add('bad');
        const word = this.badWord(b);
        const bw = word.length * 6 + 10;
        el('rect', { class: 'badge-bg', x: -w / 2 - 4, y: -h / 2 - 8, width: bw, height: 12 }, ng);
        el('text', { class: 'badge', x: -w / 2 - 4 + bw / 2, y: -h / 2 + 1.5 }, ng).textContent = word;
      }
      if (this.matches.has(b.id)) ng.classList.add('match');
      this.nodeEls.set(b.id, ng);
    }
    this.bounds = { w: g.graph().width || 100, h: g.graph().height || 100 };
    this.applyZoom();
    this.highlightSelection();
    this.renderLegend();
  }

  // An outlined fused group (a cluster, or an outline over members placed apart), labelled with
  // its step, size and kernel; clicking it selects the group.
  drawFused(parent, c, x, y, w, h, outline) {
    const f = c.fused;
    const fg = el('g', { class: outline ? 'fused-outline' : 'cluster fused', 'data-fused': f.id, 'data-id': f.id, 'data-step': f.step === null ? '' : String(f.step) }, parent);
    el('rect', { class: 'fbox', x, y, width: w, height: h }, fg);
    if (outline) el('rect', { class: 'fhit', x, y, width: w, height: h }, fg);
    const label = fusedLabel(f) + (c.partial ? ` (${c.members.length} shown)` : '');
    // A cluster's label sits inside its top edge (the layout leaves room, as for scopes); an
    // outline's to the right of its top corner, clear of the scope labels it may cross.
    el('text', outline ? { class: 'fused-label', x: x + w + 4, y: y + 10 } : { class: 'fused-label', x: x + 6, y: y + 12 }, fg).textContent = label;
    el('title', null, fg).textContent = `${label}: ${f.nodes.map((id) => this.model.json.nodes[id].op).join(', ')}`;
    this.fusedEls.set(f.id, fg);
  }

  badWord(b) {
    if (b.kind === 'scope' || b.kind === 'group') return 'NaN/Inf';
    const stats = this.model.dumpOf(b.item);
    const nan = stats.some((s) => s.nan > 0), inf = stats.some((s) => s.posInf + s.negInf > 0);
    return nan && inf ? 'NaN Inf' : nan ? 'NaN' : 'Inf';
  }

  tooltip(b) {
    if (b.kind === 'op') {
      const n = b.item.node;
      return `${n.op}${n.meta && n.meta.scope ? ' · ' + n.meta.scope : ''}`;
    }
    if (b.kind === 'scope') return `${b.scope.path}: ${b.scope.total} ops (double-click or + to expand)`;
    if (b.kind === 'group') return `${b.scope.members.length} repeated scopes: ${b.scope.members.map((m) => m.name).join(', ')} (${b.scope.total} ops; double-click or + to show them)`;
    return `${b.item.label} · ${specOf(b.item.value)}`;
  }

  fillFunction(view) {
    const mode = this.colorMode;
    if ((mode === 'time' || mode === 'memory') && this.model.profile) {
      const key = mode === 'time' ? 'seconds' : 'bytes';
      const vals = new Map();
      for (const b of view.boxes.values()) {
        const p = this.model.profileOf(b);
        if (p) vals.set(b.id, p[key]);
      }
      const scale = heatScale([...vals.values()]);
      this.heatRange = [...vals.values()];
      return (b) => (vals.has(b.id) ? scale(vals.get(b.id)) : KIND_COLORS[b.kind === 'group' ? 'scope' : b.kind] || '#fff');
    }
    return (b) => (b.kind === 'op' ? CATEGORY_COLORS[opCategory(b.item.node.op)] : KIND_COLORS[b.kind === 'group' ? 'scope' : b.kind] || '#fff');
  }

  renderLegend() {
    const lg = this.legendEl || (this.legendEl = Object.assign(document.createElement('div'), { className: 'graph-legend' }));
    if (!lg.parentNode) this.container.appendChild(lg);
    lg.replaceChildren();
    const mode = this.colorMode;
    if ((mode === 'time' || mode === 'memory') && this.model && this.model.profile) {
      const vals = (this.heatRange || []).filter((v) => v > 0);
      const f = mode === 'time' ? humanSeconds : humanBytes;
      const lo = vals.length ? f(Math.min(...vals)) : '0';
      const hi = vals.length ? f(Math.max(...vals)) : '0';
      lg.innerHTML = `<span>${mode === 'time' ? 'time' : 'bytes written'}: ${lo}</span><span class="heat-bar"></span><span>${hi}</span>`;
      return;
    }
    const present = new Set();
    if (this.current) for (const b of this.current.boxes.values()) if (b.kind === 'op') present.add(opCategory(b.item.node.op));
    if (this.model) this.model.json.nodes.forEach((n) => present.add(opCategory(n.op)));
    for (const [cat, color] of Object.entries(CATEGORY_COLORS)) {
      if (!present.has(cat)) continue;
      const s = document.createElement('span');
      s.className = 'chip';
      s.innerHTML = `<i style="background:${color}"></i>${cat}`;
      lg.appendChild(s);
    }
  }

  setColorMode(mode) {
    this.colorMode = mode;
    if (this.model) this.render();
  }

  // ----- scopes -----

  toggleScope(path) {
    if (this.expanded.has(path)) {
      for (const p of [...this.expanded]) if (p === path || p.startsWith(path + '/')) this.expanded.delete(p);
    } else {
      this.expanded.add(path);
    }
    this.relayout((this.model.groups.has(path) ? 'g:' : 's:') + path);
  }

  // Expands every scope around an item so that it is drawn as itself.
  reveal(itemId) {
    const it = this.model.items.get(itemId);
    if (!it) return;
    let key = '';
    let changed = false;
    for (const part of it.path) {
      key = key ? key + '/' + part : part;
      const g = this.model.scopes.get(key).group;
      if (g && !this.expanded.has(g.path)) { this.expanded.add(g.path); changed = true; }
      if (!this.expanded.has(key)) { this.expanded.add(key); changed = true; }
    }
    if (changed) this.relayout();
  }

  // ----- selection -----

  select(id, { center = false } = {}) {
    this.selected = id;
    this.highlightSelection();
    if (center && id) this.centerOn(id);
    const box = id ? this.current.boxes.get(id) || this.current.clusters.get(id) || (this.current.fused && this.current.fused.get(id)) : null;
    this.onSelect(box ? { ...box, kind: box.kind || 'scope-open' } : null);
  }

  highlightSelection() {
    if (!this.nodeEls) return;
    for (const [id, e] of this.nodeEls) e.classList.toggle('selected', id === this.selected);
    for (const [id, e] of this.fusedEls || []) e.classList.toggle('selected', id === this.selected);
    for (const p of this.edgeEls || []) p.classList.toggle('hl', p.dataset.from === this.selected || p.dataset.to === this.selected);
  }

  setMatches(ids) {
    this.matches = new Set(ids);
    if (this.nodeEls) for (const [id, e] of this.nodeEls) e.classList.toggle('match', this.matches.has(id));
  }

  // ----- pan and zoom -----

  applyZoom() {
    const { k, x, y } = this.zoom;
    this.viewport.setAttribute('transform', `translate(${x},${y}) scale(${k})`);
    this.svg.dataset.zoom = k.toFixed(4);
  }

  fit() {
    if (!this.bounds) return;
    const r = this.svg.getBoundingClientRect();
    const W = r.width || 800, H = r.height || 600;
    let k = Math.min(2, Math.min(W / this.bounds.w, H / this.bounds.h) * 0.95);
    let top = false;
    if (k < 0.1) {
      // Too tall to read when fitted whole (a long chain): fit the width and show the top.
      k = Math.max(k, Math.min(1, (W / this.bounds.w) * 0.95));
      top = true;
    }
    this.zoom = { k, x: (W - this.bounds.w * k) / 2, y: top ? 4 : Math.max(4, (H - this.bounds.h * k) / 2) };
    this.applyZoom();
  }

  screenPosOf(id) {
    const n = this.layoutResult && this.layoutResult.node(id);
    if (!n || !Number.isFinite(n.x)) return null;
    const top = n.y - n.height / 2;
    return { x: n.x * this.zoom.k + this.zoom.x, y: top * this.zoom.k + this.zoom.y };
  }

  // Shows a fused group: opens the scopes around its members, then selects it.
  showFused(fid) {
    const f = this.model.fused.find((x) => x.id === fid);
    if (!f) return;
    let changed = false;
    for (const nid of f.nodes) {
      const it = this.model.items.get('n' + nid);
      let key = '';
      for (const part of it.path) {
        key = key ? key + '/' + part : part;
        const gr = this.model.scopes.get(key).group;
        if (gr && !this.expanded.has(gr.path)) { this.expanded.add(gr.path); changed = true; }
        if (!this.expanded.has(key)) { this.expanded.add(key); changed = true; }
      }
    }
    if (changed) this.relayout();
    this.select(fid);
    const first = this.layoutResult.node(fid) ? fid : 'n' + f.nodes[0];
    this.centerOn(first);
  }

  centerOn(id) {
    const n = this.layoutResult.node(id);
    if (!n) return;
    const r = this.svg.getBoundingClientRect();
    if (this.zoom.k < 0.6) this.zoom.k = 1;
    this.zoom.x = r.width / 2 - n.x * this.zoom.k;
    this.zoom.y = r.height / 2 - n.y * this.zoom.k;
    this.applyZoom();
  }

  installInteraction() {
    const svg = this.svg;
    let drag = null;
    svg.addEventListener('wheel', (ev) => {
      ev.preventDefault();
      const r = svg.getBoundingClientRect();
      const px = ev.clientX - r.left, py = ev.clientY - r.top;
      const f = Math.exp(-ev.deltaY * (ev.deltaMode === 1 ? 0.05 : 0.0015));
      const k = Math.max(0.02, Math.min(8, this.zoom.k * f));
      this.zoom.x = px - ((px - this.zoom.x) * k) / this.zoom.k;
      this.zoom.y = py - ((py - this.zoom.y) * k) / this.zoom.k;
      this.zoom.k = k;
      this.applyZoom();
    }, { passive: false });
    svg.addEventListener('pointerdown', (ev) => {
      if (ev.button !== 0) return;
      drag = { x: ev.clientX, y: ev.clientY, zx: this.zoom.x, zy: this.zoom.y, moved: false };
    });
    window.addEventListener('pointermove', (ev) => {
      if (!drag) return;
      const dx = ev.clientX - drag.x, dy = ev.clientY - drag.y;
      if (Math.abs(dx) + Math.abs(dy) > 3) drag.moved = true;
      if (drag.moved) {
        this.zoom.x = drag.zx + dx;
        this.zoom.y = drag.zy + dy;
        this.applyZoom();
      }
    });
    window.addEventListener('pointerup', () => {
      if (drag && drag.moved) this.suppressClick = true;
      drag = null;
    });
    svg.addEventListener('click', (ev) => {
      if (this.suppressClick) { this.suppressClick = false; return; }
      if (!this.model) return;
      const toggle = ev.target.closest('[data-toggle]');
      if (toggle) { this.toggleScope(toggle.dataset.toggle); return; }
      const node = ev.target.closest('[data-id]');
      this.select(node ? node.dataset.id : null);
    });
    svg.addEventListener('dblclick', (ev) => {
      const node = ev.target.closest('.node.scope');
      if (node) this.toggleScope(node.dataset.scope);
    });
  }

  // ----- export -----

  svgText() {
    const clone = this.svg.cloneNode(true);
    const { w, h } = this.bounds;
    clone.setAttribute('xmlns', SVGNS);
    clone.setAttribute('width', Math.ceil(w));
    clone.setAttribute('height', Math.ceil(h));
    clone.setAttribute('viewBox', `0 0 ${Math.ceil(w)} ${Math.ceil(h)}`);
    clone.removeAttribute('style');
    clone.querySelector('.viewport').removeAttribute('transform');
    for (const t of clone.querySelectorAll('.toggle')) t.remove();
    const style = document.createElementNS(SVGNS, 'style');
    style.textContent = GRAPH_CSS;
    clone.insertBefore(style, clone.firstChild);
    const bg = document.createElementNS(SVGNS, 'rect');
    bg.setAttribute('width', '100%');
    bg.setAttribute('height', '100%');
    bg.setAttribute('fill', '#ffffff');
    clone.insertBefore(bg, clone.querySelector('.viewport'));
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + new XMLSerializer().serializeToString(clone);
  }

  // A PNG of the whole graph (at most 16k pixels a side).
  pngBlob() {
    const text = this.svgText();
    const { w, h } = this.bounds;
    const scale = Math.min(2, 16000 / Math.max(w, h));
    return new Promise((resolve, reject) => {
      const img = new Image();
      const url = URL.createObjectURL(new Blob([text], { type: 'image/svg+xml' }));
      img.onload = () => {
        const c = document.createElement('canvas');
        c.width = Math.max(1, Math.ceil(w * scale));
        c.height = Math.max(1, Math.ceil(h * scale));
        const ctx = c.getContext('2d');
        ctx.fillStyle = '#fff';
        ctx.fillRect(0, 0, c.width, c.height);
        ctx.drawImage(img, 0, 0, c.width, c.height);
        URL.revokeObjectURL(url);
        c.toBlob((b) => (b ? resolve(b) : reject(new Error('the PNG could not be encoded'))), 'image/png');
      };
      img.onerror = () => { URL.revokeObjectURL(url); reject(new Error('the SVG could not be drawn')); };
      img.src = url;
    });
  }
}

export const SIMPLE_LAYOUT_BOXES = 1500;

// Boxes in rows by longest path from the sources, in order of appearance, rows wrapped at a
// fixed width; straight edges; no clusters. Same interface as the parts of a dagre graph that
// render() reads.
function simpleLayout(view, sizeOf) {
  const ids = [...view.boxes.keys()];
  const index = new Map(ids.map((id, i) => [id, i]));
  const preds = ids.map(() => []);
  for (const e of view.edges) preds[index.get(e.to)].push(index.get(e.from));
  // Longest path rank, by a topological order (Kahn), with cycles (there are none in a graph
  // JSON, but merged scopes can form them) broken by appearance order.
  const indeg = ids.map((_, i) => preds[i].length);
  const succ = ids.map(() => []);
  preds.forEach((ps, i) => ps.forEach((p) => succ[p].push(i)));
  const rank = new Array(ids.length).fill(0);
  const queue = [];
  indeg.forEach((d, i) => { if (d === 0) queue.push(i); });
  const seen = new Array(ids.length).fill(false);
  for (let head = 0, next = 0; head < queue.length || next < ids.length;) {
    if (head === queue.length) {
      while (next < ids.length && seen[next]) next++;
      if (next === ids.length) break;
      queue.push(next);
    }
    const i = queue[head++];
    if (seen[i]) continue;
    seen[i] = true;
    for (const j of succ[i]) {
      rank[j] = Math.max(rank[j], rank[i] + 1);
      if (--indeg[j] === 0) queue.push(j);
    }
  }
  const rows = [];
  ids.forEach((id, i) => { (rows[rank[i]] = rows[rank[i]] || []).push(id); });
  const nodes = new Map();
  const WRAP = 4000;
  let y = 24, width = 0;
  for (const row of rows) {
    if (!row) continue;
    let x = 24, h = 0;
    for (const id of row) {
      const s = sizeOf(view.boxes.get(id));
      if (x + s.width > WRAP && x > 24) { y += h + 30; x = 24; h = 0; }
      nodes.set(id, { ...s, x: x + s.width / 2, y: y + s.height / 2 });
      x += s.width + 16;
      h = Math.max(h, s.height);
      width = Math.max(width, x);
    }
    y += h + 50;
  }
  const edges = new Map();
  for (const e of view.edges) {
    const a = nodes.get(e.from), b = nodes.get(e.to);
    edges.set(e.from + '\u0000' + e.to, { points: [{ x: a.x, y: a.y + a.height / 2 }, { x: b.x, y: b.y - b.height / 2 }] });
  }
  return {
    simple: true,
    node: (id) => nodes.get(id),
    edge: (from, to) => edges.get(from + '\u0000' + to),
    graph: () => ({ width: width + 24, height: y }),
  };
}

// A smooth path through dagre's points (quadratic segments between midpoints).
function curve(pts) {
  if (pts.length < 3) return `M${pts[0].x},${pts[0].y}` + pts.slice(1).map((p) => ` L${p.x},${p.y}`).join('');
  let d = `M${pts[0].x.toFixed(1)},${pts[0].y.toFixed(1)}`;
  for (let i = 1; i < pts.length - 1; i++) {
    const mx = (pts[i].x + pts[i + 1].x) / 2, my = (pts[i].y + pts[i + 1].y) / 2;
    d += ` Q${pts[i].x.toFixed(1)},${pts[i].y.toFixed(1)} ${i === pts.length - 2 ? pts[i + 1].x.toFixed(1) : mx.toFixed(1)},${i === pts.length - 2 ? pts[i + 1].y.toFixed(1) : my.toFixed(1)}`;
  }
  return d;
}
