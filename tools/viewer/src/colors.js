// Node colors: by op category (lib/ops/prims.hpp lists the primitives), or by a profile measure.

const CATEGORY_OPS = {
  math: ['neg', 'abs', 'sign', 'exp', 'expm1', 'log', 'log1p', 'sqrt', 'rsqrt', 'square', 'reciprocal', 'sin', 'cos',
    'tan', 'tanh', 'sigmoid', 'relu', 'erf', 'floor', 'ceil', 'round'],
  arithmetic: ['add', 'sub', 'mul', 'div', 'floor_div', 'mod', 'pow', 'maximum', 'minimum', 'atan2', 'hypot', 'logaddexp', 'adam_update', 'relu_grad'],
  logic: ['logical_not', 'isnan', 'isinf', 'isfinite', 'equal', 'not_equal', 'less', 'less_equal', 'greater',
    'greater_equal', 'logical_and', 'logical_or', 'logical_xor', 'where'],
  reduction: ['reduce_sum', 'reduce_prod', 'reduce_max', 'reduce_min', 'reduce_all', 'reduce_any', 'argmax', 'argmin',
    'cumsum', 'cumprod'],
  'matmul & conv': ['matmul', 'conv2d', 'max_pool2d', 'avg_pool2d', 'conv2d_backprop_input', 'conv2d_backprop_filter',
    'max_pool2d_argmax', 'avg_pool2d_backprop', 'max_pool2d_backprop', 'image_patches', 'image_patches_backprop', 'svd'],
  'shape & data': ['cast', 'permute', 'reshape', 'broadcast_to', 'slice', 'concat', 'gather', 'pad', 'scatter_add', 'stop_gradient',
    'take_along_axis', 'scatter_add_along_axis', 'sort', 'topk', 'searchsorted'],
  random: ['random_uniform', 'random_normal', 'truncated_normal'],
};

export const CATEGORY_COLORS = {
  math: '#c7e9c0',
  arithmetic: '#c6dbef',
  logic: '#dadaeb',
  reduction: '#fdd0a2',
  'matmul & conv': '#fcbba1',
  'shape & data': '#fff2ae',
  random: '#f4cae4',
  other: '#e5e5e5',
};

const OP_CATEGORY = new Map();
for (const [cat, ops] of Object.entries(CATEGORY_OPS)) for (const op of ops) OP_CATEGORY.set(op, cat);

export function opCategory(op) {
  if (OP_CATEGORY.has(op)) return OP_CATEGORY.get(op);
  if (op.startsWith('reduce_')) return 'reduction';
  if (op.startsWith('random_')) return 'random';
  return 'other';
}

export const KIND_COLORS = { input: '#9ecae1', const: '#f0f0f0', output: '#ffffff', scope: '#efe7f7' };

// White to deep red over t in [0, 1].
export function heat(t) {
  t = Math.max(0, Math.min(1, t));
  const a = [255, 247, 236];
  const b = [179, 0, 0];
  const c = a.map((x, i) => Math.round(x + (b[i] - x) * t));
  return `rgb(${c[0]}, ${c[1]}, ${c[2]})`;
}

// A scale for profile values: logarithmic over the range seen, so a few hot nodes do not wash
// every other node out.
export function heatScale(values) {
  const pos = values.filter((v) => v > 0);
  if (!pos.length) return () => heat(0);
  const lo = Math.log(Math.min(...pos));
  const hi = Math.log(Math.max(...pos));
  return (v) => (v > 0 ? heat(hi > lo ? 0.1 + (0.9 * (Math.log(v) - lo)) / (hi - lo) : 1) : heat(0));
}
