// Browser tests of the viewer: Debian's chromium driven by playwright-core, against `xflow view`
// on a free port. The run directory holds the graph written by samples/eager_basics, the two
// training-step graphs of samples/digits (a two-epoch run), scalars written here, a generated 10,000-node graph with nested scopes and a profile, and a malformed
// graph, and what samples/nan_dump writes (a profiled plan graph with fused groups, a dump with NaN). Screenshots go to build/viewer-artifacts/. Prints one line per test and ends with
// "N passed, M failed"; exits non-zero when a test failed or chromium could not start.
//
//   node tools/viewer/test/viewer.test.mjs            (XFLOW_BUILD_DIR=build, CHROMIUM=/usr/bin/chromium)
import { spawn, spawnSync, execFileSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(here, '../../..');
const BUILD = resolve(ROOT, process.env.XFLOW_BUILD_DIR || 'build');
const XFLOW = join(BUILD, 'tools/xflow');
const SAMPLE = join(BUILD, 'samples/eager_basics/eager_basics');
const DIGITS = join(BUILD, 'samples/digits/digits');
const NAN_DUMP = join(BUILD, 'samples/nan_dump/nan_dump');
const DIGITS_DATA = join(ROOT, 'data/digits/digits.csv');
const DIGITS_MAX_BOXES = 12;
const PAGE = resolve(here, '../dist/index.html');
const ART = join(BUILD, 'viewer-artifacts');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const LOSS_STEPS = 30;
const BIG_NODES = 10000;
const BIG_BUDGET_MS = Number(process.env.XFLOW_VIEWER_BIG_MS || 5000);

const tests = [];
const test = (name, fn) => tests.push({ name, fn });

function assert(cond, msg) {
  if (!cond) throw new Error(msg);
}

// ----- fixtures -----

// A 10,000-node graph: 10 blocks x 10 layers x (attention, mlp) x 50 nodes, valid graph JSON
// (shapes agree, so `xflow inspect` accepts it too), with a profile section.
function bigGraph() {
  const values = [];
  const nodes = [];
  const profile = [];
  const spec = { dtype: 'float32', shape: [64, 128], bytes: 64 * 128 * 4 };
  const addValue = (v) => { v.id = values.length; values.push(v); return v.id; };
  const x = addValue({ kind: 'placeholder', name: 'x', ...spec });
  const w = addValue({ kind: 'placeholder', name: 'w', dtype: 'float32', shape: [128, 128], bytes: 128 * 128 * 4 });
  const zeros512 = Buffer.alloc(512).toString('base64');
  let h = x;
  let seed = 7;
  const rand = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
  const addNode = (op, inputs, scope, attrs = {}) => {
    const id = nodes.length;
    const out = addValue({ kind: 'node_output', producer: id, output_index: 0, ...spec });
    nodes.push({ id, op, attrs, inputs, outputs: [out], meta: { scope: `${scope}/${op}`, file: '/src/samples/big_model.cpp', line: 100 + (id % 400) } });
    profile.push({ node: id, step: id, fused: false, seconds: 1e-6 * (1 + 50 * rand() * (op === 'matmul' ? 20 : 1)), output_bytes: spec.bytes, written_bytes: spec.bytes });
    return out;
  };
  for (let b = 0; b < 10; b++) {
    for (let l = 0; l < 10; l++) {
      const bias = addValue({ kind: 'constant', dtype: 'float32', shape: [128], bytes: 512, data: zeros512 });
      for (const part of ['attention', 'mlp']) {
        const scope = `block${b}/layer${l}/${part}`;
        const start = h;
        for (let k = 0; k < 50; k++) {
          if (k % 10 === 0) h = addNode('matmul', [h, w], scope);
          else if (k % 10 === 1) h = addNode('add', [h, bias], scope);
          else if (k % 10 === 5) h = addNode('mul', [h, start], scope);
          else if (k === 49) h = addNode('add', [h, start], scope);
          else h = addNode(k % 3 ? 'tanh' : 'relu', [h], scope);
        }
      }
    }
  }
  const total = profile.reduce((a, p) => a + p.seconds, 0);
  return {
    format: 'xflow.graph', schema_version: [1, 0], inputs: [x, w], outputs: [h], values, nodes,
    profile: { seconds: total, peak_bytes: 3 * spec.bytes, arena_bytes: 3 * spec.bytes, nodes: profile, steps: [] },
  };
}

// Twelve repeated layers (model/layer_0 ... model/layer_11, each matmul, add, relu) and a head.
const LAYERS = 12;
function repeatGraph() {
  const values = [];
  const nodes = [];
  const spec = { dtype: 'float32', shape: [4, 8] };
  const addValue = (v) => { v.id = values.length; values.push(v); return v.id; };
  const x = addValue({ kind: 'placeholder', name: 'x', ...spec });
  const w = addValue({ kind: 'placeholder', name: 'w', dtype: 'float32', shape: [8, 8] });
  const addNode = (op, inputs, scope) => {
    const id = nodes.length;
    const out = addValue({ kind: 'node_output', producer: id, output_index: 0, ...spec });
    nodes.push({ id, op, attrs: {}, inputs, outputs: [out], meta: { scope: `${scope}/${op}`, file: '/src/model.cpp', line: 10 + id } });
    return out;
  };
  let h = x;
  for (let l = 0; l < LAYERS; l++) {
    const scope = `model/layer_${l}`;
    const m = addNode('matmul', [h, w], scope);
    const a = addNode('add', [m, h], scope);
    h = addNode('relu', [a], scope);
  }
  h = addNode('tanh', [h], 'head');
  return { format: 'xflow.graph', schema_version: [1, 0], inputs: [x, w], outputs: [h], values, nodes };
}

// Histograms: "dense1/w" at steps 0, 10, 20 (the latest has 5 buckets), "act" once.
const HIST_LATEST = [1, 3, 6, 3, 1];
function histogramLines() {
  const lines = [];
  for (const step of [0, 10, 20]) {
    const counts = step === 20 ? HIST_LATEST : [2, 2, 2];
    const edges = counts.map((_, i) => -1 + i * (2 / counts.length)).concat([1]);
    lines.push(JSON.stringify({ bucket_counts: counts, bucket_edges: edges, count: counts.reduce((a, b) => a + b, 0), max: 1, min: -1,
      nan_count: 0, neg_inf_count: 0, pos_inf_count: 0, step, sum: 0, sum_squares: 1, tag: 'dense1/w', wall_time: 1.7e9 + step }));
  }
  lines.push(JSON.stringify({ bucket_counts: [4, 0, 2], bucket_edges: [0, 0.5, 1, 1.5], count: 6, max: 1.5, min: 0, nan_count: 1,
    neg_inf_count: 0, pos_inf_count: 0, step: 5, sum: 'nan', sum_squares: 'nan', tag: 'act', wall_time: 1.7e9 }));
  return lines.join('\n') + '\n';
}

function makeRunDir() {
  const tmp = mkdtempSync(join(tmpdir(), 'xflow-viewer-'));
  const run = join(tmp, 'run');
  execFileSync(SAMPLE, [run], { cwd: tmp, stdio: 'pipe' });
  assert(existsSync(join(run, 'graph.json')), `${SAMPLE} did not write ${run}/graph.json`);
  const lines = [];
  for (let i = 0; i < LOSS_STEPS; i++) {
    const step = i * 10;
    lines.push(JSON.stringify({ tag: 'loss', step, wall_time: 1.7e9 + i, value: 2 * Math.exp(-i / 8) + 0.05 * Math.sin(i) }));
    if (i % 3 === 0) lines.push(JSON.stringify({ tag: 'accuracy', step, wall_time: 1.7e9 + i, value: 1 - Math.exp(-i / 6) }));
  }
  lines.push(JSON.stringify({ tag: 'loss_nan_check', step: 0, wall_time: 1.7e9, value: 'nan' }));
  writeFileSync(join(run, 'scalars.jsonl'), lines.join('\n') + '\n');
  // A second run in a subfolder: its loss is drawn over the first one.
  mkdirSync(join(run, 'baseline'));
  const base = [];
  for (let i = 0; i < 20; i++) base.push(JSON.stringify({ tag: 'loss', step: i * 10, wall_time: 1.7e9 + i, value: 2.2 * Math.exp(-i / 12) }));
  writeFileSync(join(run, 'baseline', 'scalars.jsonl'), base.join('\n') + '\n');
  writeFileSync(join(run, 'big.json'), JSON.stringify(bigGraph()));
  writeFileSync(join(run, 'repeat.json'), JSON.stringify(repeatGraph()));
  writeFileSync(join(run, 'histograms.jsonl'), histogramLines());
  // The digits sample's training-step graphs (MLP and CNN): two epochs, the second traced, with
  // the tile interpreter (no compiler run per plan). Two epochs stay below the sample's accuracy
  // bar, so its exit status is not checked; its graphs are.
  const digitsRuns = join(tmp, 'digits-runs');
  const r = spawnSync(DIGITS, ['--data', DIGITS_DATA, '--runs', digitsRuns, '--epochs', '2'],
    { cwd: tmp, stdio: 'pipe', env: { ...process.env, XFLOW_CODEGEN: '0' }, timeout: 120000 });
  for (const model of ['mlp', 'cnn']) {
    const g = join(digitsRuns, `digits-${model}`, 'graph.json');
    assert(existsSync(g), `${DIGITS} did not write ${g}: ${r.error || ''} ${String(r.stdout)} ${String(r.stderr)}`);
    copyFileSync(g, join(run, `digits-${model}.json`));
  }
  rmSync(digitsRuns, { recursive: true, force: true });
  // samples/nan_dump: its plan's graph with a profile (fused groups) as fused.json, and its dump
  // (a run with NaN) as the subfolder dumps/nan of the run and as a folder of its own.
  const nanRun = join(tmp, 'nan-run');
  execFileSync(NAN_DUMP, [nanRun], { cwd: tmp, stdio: 'pipe', env: { ...process.env, XFLOW_CODEGEN: '0' } });
  copyFileSync(join(nanRun, 'replay.json'), join(run, 'fused.json'));
  // The same graph as if its last fused group had a generated kernel: its cache key is shown.
  const keyed = JSON.parse(readFileSync(join(run, 'fused.json'), 'utf8'));
  Object.assign(keyed.profile.steps.filter((s) => s.fused).pop(), { kernel: 'generated', kernel_hash: '0123456789abcdef' });
  writeFileSync(join(run, 'fused-key.json'), JSON.stringify(keyed));
  mkdirSync(join(run, 'dumps'));
  cpSync(join(nanRun, 'dump'), join(run, 'dumps', 'nan'), { recursive: true });
  // A dump index next to a graph it does not describe (eager_basics' graph).
  mkdirSync(join(run, 'dumps', 'wrong'));
  copyFileSync(join(nanRun, 'dump', 'index.json'), join(run, 'dumps', 'wrong', 'index.json'));
  copyFileSync(join(run, 'graph.json'), join(run, 'dumps', 'wrong', 'graph.json'));
  writeFileSync(join(run, 'bad.json'), '{"format": "xflow.graph", "schema_version": [1, 0], "values": [');
  // A Saver's PREFIX.meta: a meta-graph holding the MLP's graph, collections and signatures.
  const mlp = JSON.parse(readFileSync(join(run, 'digits-mlp.json'), 'utf8'));
  writeFileSync(join(run, 'model.ckpt-7.meta'), JSON.stringify({
    format: 'xflow.meta_graph', schema_version: [1, 0], meta_info: { tags: ['serve'] }, graph: mlp,
    collections: {}, variables: [], signatures: {}, saver: { version: 'V2', max_to_keep: 5 } }));
  return { tmp, run, dump: join(nanRun, 'dump') };
}

function startServer(run, args = [run]) {
  return new Promise((resolvePromise, reject) => {
    const proc = spawn(XFLOW, ['view', ...args, '--port', '0', '--page', PAGE], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const timer = setTimeout(() => reject(new Error(`xflow view printed no URL in 20 s: ${out}`)), 20000);
    const onData = (d) => {
      out += d.toString();
      const m = out.match(/http:\/\/127\.0\.0\.1:(\d+)\//);
      if (m) {
        clearTimeout(timer);
        resolvePromise({ proc, url: m[0] });
      }
    };
    proc.stdout.on('data', onData);
    proc.stderr.on('data', onData);
    proc.on('exit', (code) => { clearTimeout(timer); reject(new Error(`xflow view exited (${code}): ${out}`)); });
  });
}

// ----- the tests -----

let ctx; // { page, url, run, browser }

async function openGraph(query = '') {
  const { page, url } = ctx;
  await page.goto(url + query);
  await page.waitForFunction(() => ['ready', 'error'].includes(document.body.dataset.graphState), null, { timeout: 30000 });
}

test('the graph renders', async () => {
  const { page } = ctx;
  await openGraph();
  assert(await page.evaluate(() => document.body.dataset.graphState) === 'ready', 'graph state is not ready');
  const ops = await page.$$eval('.node.op', (els) => els.map((e) => e.dataset.op).sort());
  assert(JSON.stringify(ops) === JSON.stringify(['add', 'matmul', 'relu', 'reshape']), `ops drawn: ${ops}`);
  assert(await page.locator('.node.input').count() === 1, 'one input');
  assert(await page.locator('.node.output').count() === 1, 'one output');
  assert(await page.locator('.edge').count() >= 6, 'edges drawn');
  const labels = await page.$$eval('.edge-label', (els) => els.map((e) => e.textContent));
  assert(labels.includes('(16, 4) float32'), `edge labels: ${labels}`);
  assert(labels.includes('(16, 8) float32'), `edge labels: ${labels}`);
  await page.screenshot({ path: join(ART, 'graph.png') });
});

test('a scope collapses and expands', async () => {
  const { page } = ctx;
  await openGraph();
  assert(await page.locator('[data-cluster="dense"]').count() === 1, 'dense starts expanded');
  await page.click('[data-cluster="dense"] [data-toggle="dense"]');
  await page.waitForSelector('.node.scope[data-scope="dense"]');
  assert(await page.locator('.node.op').count() === 0, 'ops hidden when collapsed');
  assert(await page.locator('[data-cluster="dense"]').count() === 0, 'no cluster when collapsed');
  const text = await page.locator('.node.scope[data-scope="dense"]').textContent();
  assert(text.includes('dense') && text.includes('4 ops'), `collapsed box says: ${text}`);
  await page.screenshot({ path: join(ART, 'graph-collapsed.png') });
  await page.click('.node.scope[data-scope="dense"] [data-toggle="dense"]');
  await page.waitForSelector('[data-cluster="dense"]');
  assert(await page.locator('.node.op').count() === 4, 'ops back when expanded');
  // Double-click on a collapsed scope expands it too.
  await page.click('[data-cluster="dense"] [data-toggle="dense"]');
  await page.dblclick('.node.scope[data-scope="dense"] text.l1');
  await page.waitForSelector('[data-cluster="dense"]');
});

test('clicking a node shows its shape and source location', async () => {
  const { page, run } = ctx;
  await openGraph();
  const g = JSON.parse(readFileSync(join(run, 'graph.json'), 'utf8'));
  const mm = g.nodes.find((n) => n.op === 'matmul');
  await page.click('.node.op[data-op="matmul"]');
  await page.waitForSelector('#side-panel .detail-op');
  assert((await page.locator('#side-panel .detail-op').textContent()) === 'matmul', 'panel shows matmul');
  const outs = await page.locator('#side-panel ul.outputs .value-spec').allTextContents();
  assert(outs.includes('(16, 4) float32'), `outputs: ${outs}`);
  const ins = await page.locator('#side-panel ul.inputs .value-spec').allTextContents();
  assert(ins.includes('(16, 8) float32') && ins.includes('(8, 4) float32'), `inputs: ${ins}`);
  const loc = await page.locator('#side-panel .source-location').textContent();
  assert(loc === `main.cpp:${mm.meta.line}`, `source location: ${loc}`);
  assert(await page.locator('.node.op[data-op="matmul"].selected').count() === 1, 'node highlighted');
  await page.screenshot({ path: join(ART, 'graph-selected.png') });
  // The link to the producer of an input selects it.
  await page.click('#side-panel ul.inputs a:has-text("dense/reshape")');
  assert((await page.locator('#side-panel .detail-op').textContent()) === 'reshape', 'producer link goes to reshape');
});

test('search finds a node by op and by name', async () => {
  const { page } = ctx;
  await openGraph();
  await page.fill('#search', 'relu');
  await page.press('#search', 'Enter');
  await page.waitForSelector('.node.op[data-op="relu"].selected');
  await page.fill('#search', 'input0');
  await page.waitForSelector('#search-results [data-goto]');
  await page.press('#search', 'Enter');
  await page.waitForSelector('.node.input.selected');
});

test('the loss plot has one point per logged step, runs overlaid', async () => {
  const { page } = ctx;
  await openGraph();
  await page.click('#tab-scalars');
  await page.waitForSelector('.plot[data-tag="loss"]');
  const runs = await page.$$eval('.plot[data-tag="loss"] .series', (els) => els.map((e) => [e.dataset.run, e.querySelectorAll('circle.pt').length]));
  const main = runs.find(([r]) => r === 'run');
  const base = runs.find(([r]) => r === 'run/baseline');
  assert(main && main[1] === LOSS_STEPS, `loss points of run: ${JSON.stringify(runs)}`);
  assert(base && base[1] === 20, `loss points of run/baseline: ${JSON.stringify(runs)}`);
  const acc = await page.locator('.plot[data-tag="accuracy"] .series[data-run="run"] circle.pt').count();
  assert(acc === Math.ceil(LOSS_STEPS / 3), `accuracy points: ${acc}`);
  assert(await page.locator('.plot[data-tag="loss_nan_check"] .plot-empty').count() === 1, 'a NaN-only tag says so');
  await page.screenshot({ path: join(ART, 'scalars.png'), fullPage: true });
});

test('export SVG and PNG', async () => {
  const { page } = ctx;
  await openGraph();
  const [svgDl] = await Promise.all([page.waitForEvent('download'), page.click('#export-svg')]);
  const svgPath = join(ART, 'export.svg');
  await svgDl.saveAs(svgPath);
  const svg = readFileSync(svgPath, 'utf8');
  assert(svg.startsWith('<?xml') && svg.includes('<svg') && svg.includes('matmul') && svg.includes('<style'), 'SVG export content');
  const [pngDl] = await Promise.all([page.waitForEvent('download'), page.click('#export-png')]);
  const pngPath = join(ART, 'export.png');
  await pngDl.saveAs(pngPath);
  const png = readFileSync(pngPath);
  assert(png.length > 1000 && png.subarray(1, 4).toString() === 'PNG', `PNG export: ${png.length} bytes`);
});

test(`a ${BIG_NODES}-node graph renders within ${BIG_BUDGET_MS / 1000} s, scopes collapsed`, async () => {
  const { page } = ctx;
  const t0 = Date.now();
  await openGraph('?graph=big.json');
  const ms = Date.now() - t0;
  assert(await page.evaluate(() => document.body.dataset.graphState) === 'ready', 'big graph state is not ready');
  const boxes = await page.locator('.node').count();
  assert(boxes > 0 && boxes < 200, `boxes drawn: ${boxes}`);
  // block0 ... block9 start as one closed group.
  assert(await page.locator('.node.group[data-scope="block[…]"]').count() === 1, 'the blocks are one group');
  await page.screenshot({ path: join(ART, 'big-graph.png') });
  const timings = await page.evaluate(() => document.body.dataset.graphTimings);
  console.log(`#   big graph: ready in ${ms} ms with ${boxes} boxes (${timings})`);
  assert(ms < BIG_BUDGET_MS, `took ${ms} ms`);
  // Opening scopes lays out only what is open.
  const t1 = Date.now();
  await page.click('.node.group[data-scope="block[…]"] [data-toggle="block[…]"]');
  await page.waitForSelector('.node.scope[data-scope="block0"]');
  await page.click('#fit');
  assert(await page.locator('.node.scope[data-scope^="block"]:not(.group)').count() === 10, 'the group shows its 10 blocks');
  await page.click('.node.scope[data-scope="block0"] [data-toggle="block0"]');
  await page.click('.node.group[data-scope="block0/layer[…]"] [data-toggle="block0/layer[…]"]');
  await page.waitForSelector('.node.scope[data-scope="block0/layer3"]');
  await page.click('#fit');
  await page.click('.node.scope[data-scope="block0/layer3"] [data-toggle="block0/layer3"]');
  await page.click('.node.scope[data-scope="block0/layer3/mlp"] [data-toggle="block0/layer3/mlp"]');
  await page.waitForSelector('[data-cluster="block0/layer3/mlp"] ');
  const ms2 = Date.now() - t1;
  assert(ms2 < BIG_BUDGET_MS, `expanding took ${ms2} ms`);
  assert(await page.locator('.node.op').count() === 50, 'the 50 ops of block0/layer3/mlp are drawn');
  // Profile colors.
  await page.selectOption('#color-mode', 'time');
  assert((await page.locator('.graph-legend').textContent()).includes('time'), 'time legend');
  await page.click('#fit');
  await page.screenshot({ path: join(ART, 'big-graph-expanded-time.png') });
  // Search reaches inside collapsed scopes.
  await page.fill('#search', 'block7/layer2/attention/matmul');
  await page.press('#search', 'Enter');
  await page.waitForSelector('.node.op.selected[data-op="matmul"]');
  console.log(`#   big graph: three scopes opened in ${ms2} ms`);
});

test('repeated sibling scopes are one group box that expands', async () => {
  const { page } = ctx;
  await openGraph('?graph=repeat.json');
  assert(await page.evaluate(() => document.body.dataset.graphState) === 'ready', 'repeat graph state is not ready');
  const group = page.locator('.node.group[data-scope="model/layer_[…]"]');
  assert(await group.count() === 1, 'one group box for the layers');
  const text = await group.textContent();
  assert(text.includes(`layer_[0..${LAYERS - 1}] ×${LAYERS}`) && text.includes(`${3 * LAYERS} ops`), `group box says: ${text}`);
  assert(await page.locator('.node.scope[data-scope^="model/layer_"]:not(.group)').count() === 0, 'no layer drawn on its own');
  assert(await page.locator('.node.op[data-op="tanh"]').count() === 1, 'the head is open');
  await page.screenshot({ path: join(ART, 'repeat-collapsed.png') });
  // Clicking selects the group; its panel lists the members.
  await group.locator('text.l1').click();
  await page.waitForSelector('#side-panel .detail-group');
  assert((await page.locator('#side-panel').textContent()).includes('layer_11'), 'panel lists the members');
  // Expanding shows the 12 members, in a cluster that collapses again.
  await page.click('.node.group[data-scope="model/layer_[…]"] [data-toggle="model/layer_[…]"]');
  await page.waitForSelector('[data-cluster="model/layer_[…]"]');
  assert(await page.locator('.node.scope[data-scope^="model/layer_"]:not(.group)').count() === LAYERS, 'the members are drawn');
  await page.click('#fit');
  await page.dblclick('.node.scope[data-scope="model/layer_4"] text.l1');
  await page.waitForSelector('[data-cluster="model/layer_4"]');
  assert(await page.locator('.node.op[data-op="matmul"]').count() === 1, 'layer_4 shows its ops');
  await page.screenshot({ path: join(ART, 'repeat-expanded.png') });
  await page.click('[data-cluster="model/layer_[…]"] > .toggle');
  await page.waitForSelector('.node.group[data-scope="model/layer_[…]"]');
  assert(await page.locator('.node.op[data-op="matmul"]').count() === 0, 'collapsed again');
  // Search reaches inside the closed group.
  await page.fill('#search', 'model/layer_7/relu');
  await page.press('#search', 'Enter');
  await page.waitForSelector('.node.op.selected[data-op="relu"]');
});

// The digits training steps read like their models when every scope is closed: the inputs, the
// output, the layers, the loss, the gradients and the optimizer, and no loose op.
for (const [model, layers] of [['mlp', ['.node.scope[data-scope="hidden"]']], ['cnn', ['.node.group[data-scope="block[…]"]', '.node.scope[data-scope="flatten"]']]]) {
  test(`the digits ${model} training step is at most ${DIGITS_MAX_BOXES} top-level boxes`, async () => {
    const { page } = ctx;
    await openGraph(`?graph=digits-${model}.json`);
    assert(await page.evaluate(() => document.body.dataset.graphState) === 'ready', `digits-${model} state is not ready`);
    await page.click('#collapse-all');
    const boxes = await page.$$eval('.node', (els) => els.map((e) => e.dataset.scope || e.dataset.op || e.getAttribute('class')));
    console.log(`#   digits ${model}: ${boxes.length} top-level boxes: ${boxes.join(', ')}`);
    assert(boxes.length <= DIGITS_MAX_BOXES, `${boxes.length} top-level boxes: ${boxes.join(', ')}`);
    assert(await page.locator('.node.op').count() === 0, `ops outside every scope: ${boxes.join(', ')}`);
    assert(await page.locator('.node.const').count() === 0, 'no constant at the top');
    for (const sel of [...layers, '.node.scope[data-scope="logits"]', '.node.scope[data-scope="loss"]',
      '.node.scope[data-scope="gradients"]', '.node.scope[data-scope="Adam"]'])
      assert(await page.locator(sel).count() === 1, `no box ${sel}: ${boxes.join(', ')}`);
    await page.screenshot({ path: join(ART, `digits-${model}-collapsed.png`) });
    // Inside: the gradients of each layer and the update of each variable.
    await page.click('.node.scope[data-scope="gradients"] [data-toggle="gradients"]');
    await page.waitForSelector('[data-cluster="gradients"]');
    assert(await page.locator('.node.scope[data-scope="gradients/logits"]').count() === 1, 'gradients/logits');
    assert(await page.locator('.node.scope[data-scope="gradients/loss"]').count() === 1, 'gradients/loss');
    await page.screenshot({ path: join(ART, `digits-${model}-gradients.png`) });
    await page.click('#collapse-all');
    await page.click('.node.scope[data-scope="Adam"] [data-toggle="Adam"]');
    await page.waitForSelector('[data-cluster="Adam"]');
    assert(await page.locator('.node.scope[data-scope="Adam/logits"]').count() === 1, 'Adam/logits');
    await page.click('#fit');
    await page.screenshot({ path: join(ART, `digits-${model}-adam.png`) });
  });
}

test('histograms: the latest step of each tag as bars', async () => {
  const { page } = ctx;
  await openGraph('?tab=scalars');
  await page.waitForSelector('.plot.histogram[data-tag="dense1/w"]');
  const h = page.locator('.plot.histogram[data-tag="dense1/w"]');
  assert(await h.count() === 1, 'one histogram for dense1/w');
  assert(await h.getAttribute('data-step') === '20', `step: ${await h.getAttribute('data-step')}`);
  assert((await h.textContent()).includes('step 20'), 'the step is shown');
  const counts = await h.locator('rect.bar').evaluateAll((els) => els.map((e) => Number(e.dataset.count)));
  assert(JSON.stringify(counts) === JSON.stringify(HIST_LATEST), `bars: ${counts}`);
  const heights = await h.locator('rect.bar').evaluateAll((els) => els.map((e) => Number(e.getAttribute('height'))));
  assert(heights[2] > heights[1] && heights[1] > heights[0] && heights[0] > 0, `bar heights: ${heights}`);
  const act = page.locator('.plot.histogram[data-tag="act"]');
  assert(await act.getAttribute('data-step') === '5', 'act at step 5');
  assert(await act.locator('rect.bar').count() === 3, 'act has 3 bars');
  assert((await act.textContent()).includes('1 NaN/Inf not drawn'), 'the NaN count is shown');
  // The tag filter applies to histograms too.
  await page.fill('#tag-filter', 'dense1');
  assert(await page.locator('.plot.histogram').count() === 1, 'filtered to dense1/w');
  await page.fill('#tag-filter', '');
  await page.screenshot({ path: join(ART, 'histograms.png'), fullPage: true });
});

test('a meta-graph file (a Saver\'s PREFIX.meta) shows its graph', async () => {
  const { page } = ctx;
  await openGraph('?graph=model.ckpt-7.meta');
  assert(await page.evaluate(() => document.body.dataset.graphState) === 'ready', 'graph state is not ready');
  const ops = await page.$$eval('.node.op', (els) => els.map((e) => e.dataset.op));
  const boxes = await page.locator('.node').count();
  assert(boxes > 0, `nothing drawn (ops: ${ops})`);
});

test('malformed JSON shows a clear message', async () => {
  const { page } = ctx;
  await openGraph('?graph=bad.json');
  assert(await page.evaluate(() => document.body.dataset.graphState) === 'error', 'state is error');
  const msg = await page.locator('#message.error').textContent();
  assert(msg.includes('bad.json') && msg.includes('not valid JSON'), `message: ${msg}`);
  await page.screenshot({ path: join(ART, 'malformed.png') });
});

test('opened from file:// with no server: a graph file and a run folder', async () => {
  const { page, run } = ctx;
  await page.goto('file://' + PAGE);
  await page.setInputFiles('#file-input', join(run, 'graph.json'));
  await page.waitForFunction(() => document.body.dataset.graphState === 'ready');
  assert(await page.locator('.node.op[data-op="matmul"]').count() === 1, 'graph from file input');
  await page.setInputFiles('#dir-input', run);
  await page.waitForFunction(() => document.body.dataset.scalarsState === 'ready');
  await page.click('#tab-scalars');
  const n = await page.locator('.plot[data-tag="loss"] .series[data-run="run"] circle.pt').count();
  assert(n === LOSS_STEPS, `loss points from the folder: ${n}`);
});

// The fused groups of a graph's profile, and the nodes whose values the dump says hold NaN or Inf.
function fusedSteps(graph) {
  return graph.profile.steps.filter((st) => st.fused);
}
function dumpFacts(dir) {
  const index = JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8'));
  const bad = new Set();
  for (const e of index.values) if (e.nan + e.pos_inf + e.neg_inf > 0) bad.add(e.kind === 'node' ? `n${e.node}` : `v${e.value}`);
  const steps = new Set(index.values.filter((e) => e.fused).map((e) => e.step));
  return { index, bad, fusedSteps: steps.size };
}
const badIds = (page) => page.$$eval('.node.bad', (els) => els.map((e) => e.dataset.id).sort());

test('fused groups are outlined, labelled and select in the panel', async () => {
  const { page, run } = ctx;
  const graph = JSON.parse(readFileSync(join(run, 'fused.json'), 'utf8'));
  const steps = fusedSteps(graph);
  assert(steps.length >= 2, `the fixture has ${steps.length} fused steps`);
  await openGraph('?graph=fused.json');
  assert(await page.evaluate(() => document.body.dataset.graphState) === 'ready', 'graph state is not ready');
  // Every fused step is drawn (all scopes start open), with its step and size on its label.
  const drawn = await page.$$eval('[data-fused]', (els) => els.map((e) => [e.dataset.step, e.getAttribute('class'), e.querySelector('.fused-label').textContent]));
  assert(drawn.length === steps.length, `fused groups drawn: ${JSON.stringify(drawn)}`);
  for (const st of steps) {
    const d = drawn.find(([step]) => step === String(st.step));
    assert(d && d[2].startsWith(`fused step ${st.step} · ${st.nodes.length} ops`), `step ${st.step}: ${JSON.stringify(drawn)}`);
    // The kernel kind the profile gives (interpreted: the fixture runs with XFLOW_CODEGEN=0), no key.
    assert(st.kernel === 'interpreted' && !('kernel_hash' in st), `step ${st.step} in the file: ${JSON.stringify(st)}`);
    assert(d[2].endsWith(' · interpreted kernel'), `step ${st.step}'s label: ${d[2]}`);
  }
  // A group inside one scope is a cluster; the one across dense's and scale's ops an outline.
  assert(drawn.some(([, cls]) => cls.includes('cluster fused')), `no fused cluster: ${JSON.stringify(drawn)}`);
  assert(drawn.some(([, cls]) => cls.includes('fused-outline')), `no fused outline: ${JSON.stringify(drawn)}`);
  // Each member lies inside its group's box.
  for (const st of steps) {
    const inside = await page.evaluate(({ step, nodes }) => {
      const box = document.querySelector(`[data-fused][data-step="${step}"] rect.fbox`).getBoundingClientRect();
      return nodes.every((id) => {
        const r = document.querySelector(`.node[data-id="n${id}"] rect.box`).getBoundingClientRect();
        return r.left >= box.left - 1 && r.right <= box.right + 1 && r.top >= box.top - 1 && r.bottom <= box.bottom + 1;
      });
    }, { step: st.step, nodes: st.nodes });
    assert(inside, `a member of step ${st.step} is outside its outline`);
  }
  await page.screenshot({ path: join(ART, 'fused.png') });
  // Clicking an outline's label selects the group: its panel lists the members.
  const st = steps[steps.length - 1];
  await page.click(`[data-fused][data-step="${st.step}"] .fused-label`);
  await page.waitForSelector('#side-panel .detail-fused');
  assert((await page.locator('#side-panel .detail-fused').textContent()) === `fused step ${st.step}`, 'panel title');
  assert(await page.locator('#side-panel ul.fused-ops li').count() === st.nodes.length, 'panel lists the ops');
  assert(await page.locator(`[data-fused][data-step="${st.step}"].selected`).count() === 1, 'the group is highlighted');
  // A member's panel links to its group.
  await page.click(`#side-panel ul.fused-ops a[data-goto="n${st.nodes[0]}"]`);
  await page.waitForSelector(`#side-panel [data-fused-link]`);
  await page.click('#side-panel [data-fused-link]');
  await page.waitForSelector('#side-panel .detail-fused');
  // Closing the scope of a cluster's members hides that group's box.
  const clusterStep = drawn.find(([, cls]) => cls.includes('cluster fused'))[0];
  const scope = graph.nodes[steps.find((x) => String(x.step) === clusterStep).nodes[0]].meta.scope.split('/')[0];
  await page.click('#fit');
  await page.click(`[data-cluster="${scope}"] [data-toggle="${scope}"]`);
  await page.waitForSelector(`.node.scope[data-scope="${scope}"]`);
  assert(await page.locator(`[data-fused][data-step="${clusterStep}"]`).count() === 0, 'the closed scope hides the group');
  // A generated kernel's cache key is on its label and in its panel.
  await openGraph('?graph=fused-key.json');
  const label = await page.locator(`[data-fused][data-step="${st.step}"] .fused-label`).textContent();
  assert(label === `fused step ${st.step} · ${st.nodes.length} ops · generated kernel 0123456789abcdef`, `label: ${label}`);
  await page.click(`[data-fused][data-step="${st.step}"] .fused-label`);
  await page.waitForSelector('#side-panel .detail-fused');
  const panel = await page.locator('#side-panel').textContent();
  assert(panel.includes('fused_0123456789abcdef.so'), `panel: ${panel}`);
});

test('a dump next to its graph: statistics per node, NaN and Inf highlighted', async () => {
  const { page, run } = ctx;
  const { index, bad, fusedSteps: nf } = dumpFacts(join(run, 'dumps', 'nan'));
  assert(bad.size >= 2, `the fixture dump has ${bad.size} nodes with NaN`);
  await openGraph('?graph=dumps/nan/graph.json');
  assert(await page.evaluate(() => document.body.dataset.dumpState) === 'ready', 'the dump is not attached');
  const got = await badIds(page);
  assert(JSON.stringify(got) === JSON.stringify([...bad].sort()), `highlighted ${got}, expected ${[...bad].sort()}`);
  // The fused groups of the dump's graph come from the index's steps.
  assert(await page.locator('[data-fused]').count() === nf, `fused groups: ${await page.locator('[data-fused]').count()} of ${nf}`);
  // The log node's panel: its value's statistics as in the index.
  const e = index.values.find((x) => x.op === 'log');
  await page.click(`.node[data-id="n${e.node}"]`);
  await page.waitForSelector('#side-panel .dump-summary');
  const rows = await page.$$eval('#side-panel .dump-summary tr', (trs) => Object.fromEntries(trs.map((tr) => [tr.cells[0].textContent, tr.cells[1].textContent])));
  assert(rows.NaN === String(e.nan) && Number(rows.NaN) > 0, `NaN row: ${JSON.stringify(rows)}`);
  assert(rows['+Inf'] === String(e.pos_inf) && rows['-Inf'] === String(e.neg_inf), `Inf rows: ${JSON.stringify(rows)}`);
  assert(Math.abs(Number(rows.min) - e.min) <= 1e-5 * Math.abs(e.min) && Math.abs(Number(rows.max) - e.max) <= 1e-5 * Math.abs(e.max), `min/max: ${JSON.stringify(rows)}`);
  assert(rows.elements === String(e.count), `count: ${JSON.stringify(rows)}`);
  assert(await page.locator('#side-panel .dump-summary.bad').count() === 1, 'the summary is marked');
  // A closed scope holding a NaN is highlighted for it.
  const scope = (JSON.parse(readFileSync(join(run, 'dumps', 'nan', 'graph.json'), 'utf8')).nodes[e.node].meta.scope).split('/')[0];
  await page.click(`[data-cluster="${scope}"] [data-toggle="${scope}"]`);
  await page.waitForSelector(`.node.scope.bad[data-scope="${scope}"]`);
  await page.screenshot({ path: join(ART, 'dump.png') });
  // Its panel counts the ops inside with NaN or Inf.
  const dg = JSON.parse(readFileSync(join(run, 'dumps', 'nan', 'graph.json'), 'utf8'));
  const inside = dg.nodes.filter((n) => n.meta.scope.startsWith(scope + '/') && bad.has(`n${n.id}`)).length;
  await page.click(`.node.scope[data-scope="${scope}"] text.l1`);
  await page.waitForSelector('#side-panel td.k:text-is("NaN/Inf")');
  const row = await page.locator('#side-panel tr:has(td.k:text-is("NaN/Inf")) td:nth-child(2)').textContent();
  assert(row === `in ${inside} ops`, `scope panel: ${row}, expected in ${inside} ops`);
  // An index of another graph is not attached: a warning naming the entry, the graph still shown.
  await openGraph('?graph=dumps/wrong/graph.json');
  assert(await page.evaluate(() => document.body.dataset.graphState) === 'ready', 'the graph is shown');
  assert(await page.evaluate(() => document.body.dataset.dumpState) === 'error', 'the wrong dump is refused');
  const msg = await page.locator('#message.warning').textContent();
  assert(msg.includes('The dump is not shown') && msg.includes('dumps/wrong/index.json: values['), `message: ${msg}`);
  assert(await page.locator('.node.bad').count() === 0, 'nothing highlighted');
});

test('`xflow view --dump DIR` shows the dump, and a picked dump folder does too', async () => {
  const { page, dump } = ctx;
  const { bad } = dumpFacts(dump);
  const server = await startServer(null, ['--dump', dump]);
  try {
    await page.goto(server.url);
    await page.waitForFunction(() => ['ready', 'error'].includes(document.body.dataset.graphState), null, { timeout: 30000 });
    assert(await page.evaluate(() => document.body.dataset.dumpState) === 'ready', 'the dump is not attached');
    assert((await page.locator('#graph-select').inputValue()).startsWith('dump:'), 'the dump graph is shown first');
    const got = await badIds(page);
    assert(JSON.stringify(got) === JSON.stringify([...bad].sort()), `highlighted ${got}`);
  } finally {
    server.proc.kill('SIGTERM');
  }
  // Opened from disk: the dump folder picked.
  await page.goto('file://' + PAGE);
  await page.setInputFiles('#dir-input', dump);
  await page.waitForFunction(() => document.body.dataset.graphState === 'ready');
  assert(await page.evaluate(() => document.body.dataset.dumpState) === 'ready', 'the picked dump is not attached');
  const got = await badIds(page);
  assert(JSON.stringify(got) === JSON.stringify([...bad].sort()), `picked folder: highlighted ${got}`);
  // Two files picked: the graph and the index.
  await page.goto('file://' + PAGE);
  await page.setInputFiles('#file-input', [join(dump, 'graph.json'), join(dump, 'index.json')]);
  await page.waitForFunction(() => document.body.dataset.graphState === 'ready');
  assert(await page.evaluate(() => document.body.dataset.dumpState) === 'ready', 'the picked index is not attached');
  assert((await badIds(page)).length === bad.size, 'picked files: NaN highlighted');
});

// ----- runner -----

async function main() {
  let chromium;
  let setupError = null;
  let server = null;
  let browser = null;
  let fixture = null;
  try {
    ({ chromium } = await import('playwright-core'));
    for (const [what, p] of [['xflow', XFLOW], ['eager_basics', SAMPLE], ['digits', DIGITS], ['nan_dump', NAN_DUMP], ['the viewer page (npm run build)', PAGE], ['chromium', CHROMIUM]])
      if (!existsSync(p)) throw new Error(`${what} not found at ${p}`);
    mkdirSync(ART, { recursive: true });
    fixture = makeRunDir();
    server = await startServer(fixture.run);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, timeout: 60000 });
    const context = await browser.newContext({ viewport: { width: 1400, height: 900 }, acceptDownloads: true });
    const page = await context.newPage();
    page.setDefaultTimeout(20000);
    const errors = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    ctx = { page, url: server.url, run: fixture.run, dump: fixture.dump, browser, errors };
  } catch (e) {
    setupError = e;
  }
  let passed = 0;
  let failed = 0;
  for (const [i, t] of tests.entries()) {
    if (setupError) {
      console.log(`not ok ${i + 1} - ${t.name}: setup failed: ${setupError.message}`);
      failed++;
      continue;
    }
    const t0 = Date.now();
    try {
      ctx.errors.length = 0;
      await Promise.race([t.fn(), new Promise((_, rej) => setTimeout(() => rej(new Error('timed out after 90 s')), 90000))]);
      if (ctx.errors.length) throw new Error(`page errors: ${ctx.errors.join('; ')}`);
      console.log(`ok ${i + 1} - ${t.name} (${Date.now() - t0} ms)`);
      passed++;
    } catch (e) {
      console.log(`not ok ${i + 1} - ${t.name}: ${e.message.split('\n')[0]}`);
      failed++;
      try {
        await ctx.page.screenshot({ path: join(ART, `failed-${i + 1}.png`) });
      } catch {}
    }
  }
  if (browser) await browser.close().catch(() => {});
  if (server) server.proc.kill('SIGTERM');
  if (fixture) rmSync(fixture.tmp, { recursive: true, force: true });
  if (setupError) console.log(`# the browser tests could not run: ${setupError.message}`);
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
}

main();
