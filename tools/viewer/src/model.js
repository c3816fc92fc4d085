// The graph JSON (docs/graph-json.md) read into a model the viewer draws: items (ops, inputs,
// constants, outputs) placed in a tree of name scopes, data edges between them, and the view of
// that graph where collapsed scopes stand for everything inside them.

export class GraphError extends Error {}

const isInt = (x) => Number.isInteger(x);

function fail(source, where, what) {
  throw new GraphError(`${source}: ${where}: ${what}`);
}

// Parses and checks a graph JSON text; throws GraphError naming the file and field.
export function parseGraph(text, source = 'graph') {
  let j;
  try {
    j = JSON.parse(text);
  } catch (e) {
    throw new GraphError(`${source}: not valid JSON: ${e.message}`);
  }
  if (j === null || typeof j !== 'object' || Array.isArray(j)) fail(source, '(document)', 'must be an object');
  // A meta-graph (export_meta_graph, a Saver's PREFIX.meta, an export's saved_model.json) holds
  // its graph under "graph": that graph is drawn.
  if (j.format === 'xflow.meta_graph') {
    if (j.graph === null || typeof j.graph !== 'object' || Array.isArray(j.graph)) fail(source, 'graph', 'a meta-graph must hold its graph as an object');
    j = j.graph;
  }
  if (j.format !== 'xflow.graph') fail(source, 'format', `must be "xflow.graph", got ${JSON.stringify(j.format)}`);
  const ver = j.schema_version;
  if (!Array.isArray(ver) || ver.length !== 2 || !isInt(ver[0])) fail(source, 'schema_version', 'must be [major, minor]');
  if (ver[0] !== 1) fail(source, 'schema_version', `major version ${ver[0]} is not supported (this viewer reads 1.x)`);
  if (!Array.isArray(j.values)) fail(source, 'values', 'must be a list');
  if (!Array.isArray(j.nodes)) fail(source, 'nodes', 'must be a list');
  j.values.forEach((v, i) => {
    const w = `values[${i}]`;
    if (v === null || typeof v !== 'object') fail(source, w, 'must be an object');
    if (v.id !== i) fail(source, `${w}.id`, `must be ${i}`);
    if (!['placeholder', 'constant', 'node_output'].includes(v.kind)) fail(source, `${w}.kind`, `unknown kind ${JSON.stringify(v.kind)}`);
    if (typeof v.dtype !== 'string') fail(source, `${w}.dtype`, 'must be a string');
    if (!Array.isArray(v.shape) || !v.shape.every((d) => isInt(d) && d >= 0)) fail(source, `${w}.shape`, 'must be a list of sizes');
  });
  const nv = j.values.length;
  const checkIds = (ids, w) => {
    if (!Array.isArray(ids)) fail(source, w, 'must be a list of value ids');
    ids.forEach((id, k) => {
      if (!isInt(id) || id < 0 || id >= nv) fail(source, `${w}[${k}]`, `value ${JSON.stringify(id)} does not exist`);
    });
  };
  j.nodes.forEach((n, i) => {
    const w = `nodes[${i}]`;
    if (n === null || typeof n !== 'object') fail(source, w, 'must be an object');
    if (n.id !== i) fail(source, `${w}.id`, `must be ${i}`);
    if (typeof n.op !== 'string') fail(source, `${w}.op`, 'must be a string');
    checkIds(n.inputs, `${w}.inputs`);
    checkIds(n.outputs, `${w}.outputs`);
  });
  j.values.forEach((v, i) => {
    if (v.kind === 'node_output' && (!isInt(v.producer) || v.producer < 0 || v.producer >= j.nodes.length))
      fail(source, `values[${i}].producer`, `node ${JSON.stringify(v.producer)} does not exist`);
  });
  checkIds(j.inputs, 'inputs');
  checkIds(j.outputs, 'outputs');
  if (j.guards !== undefined && !Array.isArray(j.guards)) fail(source, 'guards', 'must be a list');
  if (j.provenance !== undefined && !Array.isArray(j.provenance)) fail(source, 'provenance', 'must be a list');
  if (j.profile !== undefined && (j.profile === null || typeof j.profile !== 'object')) fail(source, 'profile', 'must be an object');
  return j;
}

// "dense1/inner/matmul" -> ["dense1", "inner"]: the scope path without its leaf (the op's name).
export function scopePath(scope) {
  if (!scope) return [];
  const parts = scope.split('/').filter((p) => p.length > 0);
  if (scope.endsWith('/')) return parts;
  return parts.slice(0, -1);
}

export function shapeStr(shape) {
  if (shape.length === 1) return `(${shape[0]},)`;
  return `(${shape.join(', ')})`;
}

export const specOf = (v) => `${shapeStr(v.shape)} ${v.dtype}`;

const DTYPE_SIZE = { bool: 1, uint8: 1, int32: 4, int64: 8, float32: 4, float64: 8 };
export function valueBytes(v) {
  if (isInt(v.bytes)) return v.bytes;
  return v.shape.reduce((a, b) => a * b, 1) * (DTYPE_SIZE[v.dtype] || 4);
}

class Scope {
  constructor(path, name, parent) {
    this.path = path; // "a/b"
    this.name = name;
    this.parent = parent;
    this.depth = parent ? parent.depth + 1 : 0;
    this.children = new Map();
    this.items = []; // items directly in this scope
    this.total = 0; // op nodes in the subtree
    this.id = 's:' + path;
  }
}

// The model of one graph: the parsed JSON plus the scope tree and the items and edges to draw.
export class GraphModel {
  constructor(json, source) {
    this.json = json;
    this.source = source;
    this.root = new Scope('', '', null);
    this.scopes = new Map(); // path -> Scope
    this.items = new Map(); // id -> item
    this.consumers = json.values.map(() => []); // value id -> node ids
    this.profile = this.readProfile(json.profile);
    json.nodes.forEach((n) => n.inputs.forEach((v) => this.consumers[v].push(n.id)));

    for (const n of json.nodes) {
      const meta = n.meta || {};
      const path = scopePath(meta.scope || '');
      this.addItem({ id: 'n' + n.id, kind: 'op', node: n, path, label: n.op, leaf: leafName(meta.scope, n.op) });
    }
    json.inputs.forEach((vid, k) => {
      const v = json.values[vid];
      this.addItem({ id: 'v' + vid, kind: 'input', value: v, path: [], label: v.name || `input ${k}` });
    });
    for (const v of json.values) {
      if (v.kind === 'placeholder' && !this.items.has('v' + v.id))
        this.addItem({ id: 'v' + v.id, kind: 'input', value: v, path: [], label: v.name || `value ${v.id}` });
      if (v.kind !== 'constant') continue;
      // A constant sits in the innermost scope holding all its consumers (as in the DOT export).
      let common = null;
      for (const nid of this.consumers[v.id]) {
        const p = this.items.get('n' + nid).path;
        if (common === null) common = p.slice();
        else {
          let k = 0;
          while (k < common.length && k < p.length && common[k] === p[k]) k++;
          common.length = k;
        }
      }
      this.addItem({ id: 'v' + v.id, kind: 'const', value: v, path: common || [], label: 'const' });
    }
    json.outputs.forEach((vid, k) => {
      this.addItem({ id: 'o' + k, kind: 'output', value: json.values[vid], index: k, path: [], label: `output ${k}` });
    });

    // Data edges: one per (value, consumer).
    this.edges = [];
    const producerItem = (vid) => {
      const v = json.values[vid];
      return v.kind === 'node_output' ? 'n' + v.producer : 'v' + vid;
    };
    for (const n of json.nodes)
      for (const vid of n.inputs) this.edges.push({ from: producerItem(vid), to: 'n' + n.id, value: vid });
    json.outputs.forEach((vid, k) => this.edges.push({ from: producerItem(vid), to: 'o' + k, value: vid }));

    this.findGroups();
    this.guards = Array.isArray(json.guards) ? json.guards : [];
    this.provenance = Array.isArray(json.provenance) ? json.provenance : [];
    this.dump = null;
    this.badScopes = new Set();
    this.fused = this.readFused();
  }

  // The plan's fused groups (docs/viewer.md): the fused steps of the profile (`profile.steps[]`,
  // written by SummaryWriter::add_graph(g, plan)), else the `fuse`/`fused` entries of
  // `provenance[]` (Plan::provenance()), else, once a dump is attached, the values its index marks
  // `fused`, by plan step. The kernel kind (generated or interpreted) and a generated kernel's
  // cache key are read from the profile step (`kernel`, `kernel_hash`) or else from the provenance
  // entry with the same nodes ("one generated kernel [fused_<key>]").
  readFused(dumpEntries = null) {
    const nn = this.json.nodes.length;
    const ok = (ids) => Array.isArray(ids) && ids.length > 0 && ids.every((id) => isInt(id) && id >= 0 && id < nn);
    const setKey = (ids) => ids.slice().sort((a, b) => a - b).join(',');
    const kernels = new Map();
    const fromProvenance = [];
    for (const p of this.provenance) {
      if (!p || p.pass !== 'fuse' || !ok(p.nodes)) continue;
      const m = /one (generated|interpreted) kernel(?: \[fused_([0-9a-f]+)\])?/.exec(typeof p.detail === 'string' ? p.detail : '');
      kernels.set(setKey(p.nodes), m ? { kind: m[1], hash: m[2] || null } : null);
      fromProvenance.push(p.nodes);
    }
    const groups = [];
    const add = (nodes, step, extra = {}) => {
      const k = groups.length;
      const kernel = kernels.get(setKey(nodes)) || null;
      groups.push({ id: 'f:' + k, index: k, step, nodes: nodes.slice(), kernel: kernel ? kernel.kind : null,
        kernelHash: kernel ? kernel.hash : null, name: step === null ? `fused group ${k}` : `fused step ${step}`, ...extra });
    };
    if (this.profile && this.profile.steps.some((s) => s && s.fused)) {
      for (const s of this.profile.steps)
        if (s && s.fused && ok(s.nodes)) {
          const extra = { seconds: typeof s.seconds === 'number' ? s.seconds : null, bytes: isInt(s.bytes) ? s.bytes : null };
          if (s.kernel === 'generated' || s.kernel === 'interpreted') extra.kernel = s.kernel;
          if (typeof s.kernel_hash === 'string' && /^[0-9a-f]+$/.test(s.kernel_hash)) extra.kernelHash = s.kernel_hash;
          add(s.nodes, isInt(s.step) ? s.step : null, extra);
        }
    } else if (fromProvenance.length) {
      for (const nodes of fromProvenance) add(nodes, null);
    } else if (dumpEntries) {
      const bySteps = new Map();
      for (const e of dumpEntries) {
        if (!e.fused || !isInt(e.step) || !isInt(e.node) || e.node < 0 || e.node >= nn) continue;
        if (!bySteps.has(e.step)) bySteps.set(e.step, new Set());
        bySteps.get(e.step).add(e.node);
      }
      for (const [step, set] of [...bySteps.entries()].sort((a, b) => a[0] - b[0])) add([...set], step);
    }
    this.fusedByNode = new Map();
    for (const g of groups) for (const id of g.nodes) this.fusedByNode.set(id, g);
    return groups;
  }

  // Attaches a dump index (xf::debug::dump_run's index.json, docs/debugging.md): its per-value
  // statistics by value id. The index must describe this graph: every entry's value exists and,
  // for a node's value, is that node's output. Throws GraphError naming the index and the entry.
  attachDump(text, source = 'index.json') {
    let j;
    try {
      j = JSON.parse(text);
    } catch (e) {
      throw new GraphError(`${source}: not valid JSON: ${e.message}`);
    }
    if (j === null || typeof j !== 'object' || j.format !== 'xflow-dump') fail(source, 'format', `must be "xflow-dump", got ${JSON.stringify(j && j.format)}`);
    if (!Array.isArray(j.values)) fail(source, 'values', 'must be a list');
    const byValue = new Map();
    const bad = new Set();
    const nv = this.json.values.length;
    j.values.forEach((e, i) => {
      const w = `values[${i}]`;
      if (e === null || typeof e !== 'object') fail(source, w, 'must be an object');
      if (!isInt(e.value) || e.value < 0 || e.value >= nv) fail(source, `${w}.value`, `value ${JSON.stringify(e.value)} is not in ${this.source}`);
      const v = this.json.values[e.value];
      if (e.kind === 'node' && (v.kind !== 'node_output' || v.producer !== e.node))
        fail(source, `${w}.node`, `value ${e.value} is not an output of node ${JSON.stringify(e.node)} in ${this.source} (the dump is of another graph)`);
      const count = (x) => (isInt(x) && x >= 0 ? x : 0);
      const num = (x) => (typeof x === 'number' ? x : null);
      const s = { value: e.value, node: isInt(e.node) ? e.node : -1, step: isInt(e.step) ? e.step : null, fused: !!e.fused, file: typeof e.file === 'string' ? e.file : '',
        count: count(e.count), min: num(e.min), max: num(e.max), mean: num(e.mean), nan: count(e.nan), posInf: count(e.pos_inf), negInf: count(e.neg_inf) };
      s.bad = s.nan + s.posInf + s.negInf > 0;
      byValue.set(e.value, s);
      if (s.bad) bad.add(v.kind === 'node_output' ? 'n' + v.producer : 'v' + v.id);
    });
    this.dump = { source, byValue, bad, error: typeof j.error === 'string' ? j.error : null, values: j.values.length };
    // Scopes holding a value with NaN or Inf (a closed scope is highlighted for what it hides).
    this.badScopes = new Set();
    for (const id of bad) {
      const it = this.items.get(id);
      let key = '';
      for (const part of it.path) {
        key = key ? key + '/' + part : part;
        this.badScopes.add(key);
        const sc = this.scopes.get(key);
        if (sc && sc.group) this.badScopes.add(sc.group.path);
      }
    }
    if (!this.fused.length) this.fused = this.readFused([...byValue.values()]);
    return this.dump;
  }

  // The dump's statistics of the values an item shows (a node's outputs, an input's value).
  dumpOf(item) {
    if (!this.dump || !item) return [];
    const vids = item.kind === 'op' ? item.node.outputs : item.value ? [item.value.id] : [];
    return vids.map((v) => this.dump.byValue.get(v)).filter((s) => s);
  }

  // Whether a box (an item, a closed scope or group) holds a value with NaN or Inf in the dump.
  isBad(box) {
    if (!this.dump) return false;
    if (box.kind === 'scope' || box.kind === 'group') return this.badScopes.has(box.scope.path);
    return box.item ? this.dump.bad.has(box.item.id) : false;
  }

  // Repeated sibling scopes: within one scope, child scopes whose names differ only by a trailing
  // number ("layer_0", "layer_1", ...) form a group, drawn as one box while it is closed. A
  // group's key (in `expanded` when it is open) is "<parent path>/<prefix>[…]".
  findGroups() {
    this.groups = new Map(); // key -> group
    const visit = (s) => {
      const byPrefix = new Map();
      for (const c of s.children.values()) {
        const m = /^(.*?)(\d+)$/.exec(c.name);
        if (!m) continue;
        if (!byPrefix.has(m[1])) byPrefix.set(m[1], []);
        byPrefix.get(m[1]).push({ scope: c, num: Number(m[2]) });
      }
      for (const [prefix, list] of byPrefix) {
        if (list.length < 2) continue;
        list.sort((a, b) => a.num - b.num);
        const key = (s.path ? s.path + '/' : '') + prefix + '[…]';
        const members = list.map((x) => x.scope);
        const g = {
          isGroup: true, path: key, id: 'g:' + key, parent: s, depth: s.depth + 1, members, children: new Map(),
          name: `${prefix}[${list[0].num}..${list[list.length - 1].num}] ×${list.length}`,
          total: members.reduce((a, m) => a + m.total, 0),
        };
        for (const m of members) m.group = g;
        this.groups.set(key, g);
      }
      for (const c of s.children.values()) visit(c);
    };
    visit(this.root);
  }

  // Boxes a scope shows directly when open: its items, its ungrouped children, one per group.
  directBoxes(s) {
    const groups = new Set();
    let n = s.items.length;
    for (const c of s.children.values()) {
      if (c.group) groups.add(c.group);
      else n++;
    }
    return n + groups.size;
  }

  // Whether an open scope's cluster (or a collapsed scope's box) is on screen: every enclosing
  // scope is open and every group on the way is open.
  onScreen(s, expanded) {
    for (let p = s; p && p !== this.root; p = p.parent) {
      if (p.group && !expanded.has(p.group.path)) return false;
      if (p !== s && !expanded.has(p.path)) return false;
    }
    return true;
  }

  // The id of the cluster or box a scope (or group) sits in, given that it is on screen.
  parentOf(s, expanded) {
    if (s.group && expanded.has(s.group.path)) return s.group.id;
    return s.parent && s.parent !== this.root ? s.parent.id : null;
  }

  readProfile(p) {
    if (!p || !Array.isArray(p.nodes)) return null;
    const num = (x) => (typeof x === 'number' ? x : 0);
    const byNode = new Map();
    for (const e of p.nodes) {
      // written_bytes is 0 for values that stay inside a fused kernel (docs/summaries.md).
      if (e && isInt(e.node))
        byNode.set(e.node, { seconds: num(e.seconds), bytes: num(e.output_bytes), written: typeof e.written_bytes === 'number' ? e.written_bytes : num(e.output_bytes), step: e.step, fused: !!e.fused });
    }
    return { byNode, seconds: num(p.seconds), peak: num(p.peak_bytes), arena: num(p.arena_bytes), steps: Array.isArray(p.steps) ? p.steps : [] };
  }

  scopeFor(path) {
    let s = this.root;
    let key = '';
    for (const part of path) {
      key = key ? key + '/' + part : part;
      let c = s.children.get(part);
      if (!c) {
        c = new Scope(key, part, s);
        s.children.set(part, c);
        this.scopes.set(key, c);
      }
      s = c;
    }
    return s;
  }

  addItem(item) {
    const s = this.scopeFor(item.path);
    item.scope = s;
    s.items.push(item);
    if (item.kind === 'op') for (let p = s; p; p = p.parent) p.total++;
    this.items.set(item.id, item);
  }

  // The scopes that start expanded: breadth first, a scope opens while the number of boxes on
  // screen stays within `budget` and the scope itself is not large (more than `large` boxes of
  // its own, or more than `largeTotal` ops inside).
  initialExpanded(budget = 120, large = 60, largeTotal = 400) {
    const expanded = new Set();
    // Groups start closed: their members are not opened.
    const open = (s) => [...s.children.values()].filter((c) => !c.group);
    let visible = this.directBoxes(this.root);
    const queue = open(this.root);
    while (queue.length) {
      const s = queue.shift();
      const direct = this.directBoxes(s);
      if (direct > large || s.total > largeTotal || visible + direct - 1 > budget) continue;
      expanded.add(s.path);
      visible += direct - 1;
      queue.push(...open(s));
    }
    return expanded;
  }

  // The id of what stands for `item` on screen: the outermost closed group or collapsed scope
  // holding it, or itself.
  repOf(item, expanded) {
    let key = '';
    for (const part of item.path) {
      key = key ? key + '/' + part : part;
      const s = this.scopes.get(key);
      if (s.group && !expanded.has(s.group.path)) return s.group.id;
      if (!expanded.has(key)) return 's:' + key;
    }
    return item.id;
  }

  // What to draw: boxes (items and collapsed scopes), clusters (expanded scopes) and edges
  // between boxes (values crossing a collapsed scope's border are merged per pair of boxes).
  view(expanded) {
    const boxes = new Map();
    const clusters = new Map();
    const repCache = new Map();
    const rep = (id) => {
      let r = repCache.get(id);
      if (r === undefined) {
        r = this.repOf(this.items.get(id), expanded);
        repCache.set(id, r);
      }
      return r;
    };
    for (const item of this.items.values()) {
      const r = rep(item.id);
      if (r === item.id) boxes.set(r, { id: r, kind: item.kind, item, parent: item.path.length ? 's:' + item.path.join('/') : null });
      else if (!boxes.has(r)) {
        if (r.startsWith('g:')) {
          const g = this.groups.get(r.slice(2));
          boxes.set(r, { id: r, kind: 'group', scope: g, parent: this.parentOf(g, expanded) });
        } else {
          const s = this.scopes.get(r.slice(2));
          boxes.set(r, { id: r, kind: 'scope', scope: s, parent: this.parentOf(s, expanded) });
        }
      }
    }
    for (const path of expanded) {
      const g = this.groups.get(path);
      if (g) {
        // An open group is a cluster around its members when its scope is on screen.
        const p = g.parent;
        if (p === this.root || (expanded.has(p.path) && this.onScreen(p, expanded)))
          clusters.set(g.id, { id: g.id, kind: 'group-open', scope: g, parent: this.parentOf(g, expanded) });
        continue;
      }
      const s = this.scopes.get(path);
      if (!s) continue;
      // Only expanded scopes whose ancestors (and groups) are all open are on screen.
      if (this.onScreen(s, expanded)) clusters.set(s.id, { id: s.id, scope: s, parent: this.parentOf(s, expanded) });
    }
    // Fused groups: a cluster when every member is drawn as itself and all share one parent (the
    // layout keeps them together), else an outline around the members on screen (drawn after the
    // layout; members may sit in different scopes, or some inside closed ones).
    const fused = new Map();
    for (const f of this.fused) {
      const shown = f.nodes.map((id) => 'n' + id).filter((id) => boxes.has(id));
      if (!shown.length) continue;
      const parents = new Set(shown.map((id) => boxes.get(id).parent));
      if (shown.length === f.nodes.length && shown.length >= 2 && parents.size === 1) {
        const parent = [...parents][0];
        const pc = parent ? clusters.get(parent) : null;
        const depth = pc && pc.scope ? pc.scope.depth + 1 : 0;
        clusters.set(f.id, { id: f.id, kind: 'fused', fused: f, parent, depth });
        for (const id of shown) boxes.get(id).parent = f.id;
      } else {
        fused.set(f.id, { id: f.id, kind: 'fused', fused: f, members: shown, partial: shown.length < f.nodes.length });
      }
    }
    const merged = new Map();
    for (const e of this.edges) {
      const a = rep(e.from);
      const b = rep(e.to);
      if (a === b) continue;
      const key = a + '\u0000' + b;
      let m = merged.get(key);
      if (!m) {
        m = { from: a, to: b, values: new Set(), bytes: 0 };
        merged.set(key, m);
      }
      if (!m.values.has(e.value)) {
        m.values.add(e.value);
        m.bytes += valueBytes(this.json.values[e.value]);
      }
    }
    const edges = [...merged.values()].map((m) => {
      const vals = [...m.values];
      const label = vals.length === 1 ? specOf(this.json.values[vals[0]]) : `${vals.length} tensors`;
      return { from: m.from, to: m.to, values: vals, bytes: m.bytes, label };
    });
    return { boxes, clusters, edges, fused };
  }

  // Seconds and bytes of a node, or summed over a scope, when the graph has a profile.
  profileOf(box) {
    if (!this.profile) return null;
    const sum = { seconds: 0, bytes: 0 };
    const add = (n) => {
      const p = this.profile.byNode.get(n.id);
      if (p) {
        sum.seconds += p.seconds;
        sum.bytes += p.written;
      }
    };
    if (box.kind === 'op') add(box.item.node);
    else if (box.kind === 'scope') this.forEachOp(box.scope, (it) => add(it.node));
    else if (box.kind === 'group') for (const m of box.scope.members) this.forEachOp(m, (it) => add(it.node));
    else return null;
    return sum;
  }

  forEachOp(scope, fn) {
    if (scope.isGroup) {
      for (const m of scope.members) this.forEachOp(m, fn);
      return;
    }
    for (const it of scope.items) if (it.kind === 'op') fn(it);
    for (const c of scope.children.values()) this.forEachOp(c, fn);
  }

  // Every op of a scope, counted by op name.
  opHistogram(scope) {
    const h = new Map();
    this.forEachOp(scope, (it) => h.set(it.node.op, (h.get(it.node.op) || 0) + 1));
    return [...h.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  }
}

function leafName(scope, op) {
  if (!scope || scope.endsWith('/')) return op;
  const parts = scope.split('/');
  return parts[parts.length - 1];
}

// base64 constant data -> the first `limit` elements as numbers (for the side panel).
export function decodeConstant(v, limit = 12) {
  if (typeof v.data !== 'string') return null;
  let bin;
  try {
    bin = atob(v.data);
  } catch {
    return null;
  }
  const size = DTYPE_SIZE[v.dtype] || 4;
  const n = Math.min(limit, Math.floor(bin.length / size));
  const bytes = new Uint8Array(n * size);
  for (let i = 0; i < bytes.length; i++) bytes[i] = bin.charCodeAt(i);
  const dv = new DataView(bytes.buffer);
  const out = [];
  for (let i = 0; i < n; i++) {
    const o = i * size;
    switch (v.dtype) {
      case 'float32': out.push(dv.getFloat32(o, true)); break;
      case 'float64': out.push(dv.getFloat64(o, true)); break;
      case 'int32': out.push(dv.getInt32(o, true)); break;
      case 'int64': out.push(Number(dv.getBigInt64(o, true))); break;
      case 'bool': out.push(dv.getUint8(o) !== 0); break;
      default: out.push(dv.getUint8(o));
    }
  }
  return { values: out, total: v.shape.reduce((a, b) => a * b, 1) };
}
