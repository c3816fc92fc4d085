#include "exec/fusion.hpp"

#include <algorithm>
#include <map>
#include <memory>

#include "core/parallel.hpp"
#include "ops/elementwise_loops.hpp"
#include "ops/prims.hpp"
#include "ops/reduce_kernels.hpp"

namespace xf {
namespace {

// Elements per tile: the temporaries of a long chain stay in L1/L2.
constexpr int64_t kTile = 512;
// Elements per block of a group that ends in a reduction (run_reduction).
constexpr int64_t kReduceBlock = 4096;

template <class T> using TileFn = void (*)(const T* a, int64_t sa, const T* b, int64_t sb, T* y, int64_t n);

template <class Fn, class T>
void unary_tile(const T* a, int64_t sa, const T*, int64_t, T* y, int64_t n) {
  if (sa == 1) {
    ew::unary_batches<Fn>(a, y, n);
  } else {
    T v;
    ew::unary_batches<Fn>(a, &v, 1);
    std::fill(y, y + n, v);
  }
}

template <class Fn, class T>
void binary_tile(const T* a, int64_t sa, const T* b, int64_t sb, T* y, int64_t n) {
  ew::binary_batches<Fn>(a, sa, b, sb, y, n);
}

struct TileEntry {
  const void* f32 = nullptr;
  const void* f64 = nullptr;
  bool unary = false;
  const char* name = "";
};

template <class Fn, int Arity> TileEntry tile_entry(const char* name) {
  if constexpr (Arity == 1)
    return TileEntry{reinterpret_cast<const void*>(static_cast<TileFn<float>>(&unary_tile<Fn, float>)),
                     reinterpret_cast<const void*>(static_cast<TileFn<double>>(&unary_tile<Fn, double>)), true, name};
  else
    return TileEntry{reinterpret_cast<const void*>(static_cast<TileFn<float>>(&binary_tile<Fn, float>)),
                     reinterpret_cast<const void*>(static_cast<TileFn<double>>(&binary_tile<Fn, double>)), false, name};
}

// The elementwise primitives with a float-valued batch function (every one whose result is not
// bool), derived from the list (ops/primitive.hpp). The name generated kernels call is the
// functor's, stringized by the list (ElementwiseInfo::functor), so it cannot differ from the type.
const std::map<Prim, TileEntry>& tile_table() {
  static const auto* table = [] {
    auto* m = new std::map<Prim, TileEntry>;
#define XFLOW_TILE_ENTRY(id, S, Fn, arity)                                        \
  if constexpr (!ew::is_predicate<ew::Fn>::value) {                               \
    static_assert(std::is_same_v<S::Functor, ew::Fn>);                            \
    m->emplace(Prim::id, tile_entry<ew::Fn, arity>(S::elementwise.functor));      \
  }
    XFLOW_ELEMENTWISE_PRIMITIVES(XFLOW_TILE_ENTRY)
#undef XFLOW_TILE_ENTRY
    return m;
  }();
  return *table;
}

// The elementwise program over elements [begin, end), tile by tile (a tile never crosses a row end
// when inputs are indexed by row).
template <class T>
void run_tiles(const Plan::Fused& f, const void* const* ext, void* const* out, T* temps, int64_t begin, int64_t end) {
  auto ptr = [&](const Plan::Fused::Operand& o, int64_t s) -> T* {
    switch (o.kind) {
      case Plan::Fused::Operand::ext: {
        T* base = const_cast<T*>(static_cast<const T*>(ext[o.index]));
        if (o.read == FusedRead::row) return base + s % f.cols;
        if (o.read == FusedRead::column) return base + s / f.cols;
        return base + s * o.stride;
      }
      case Plan::Fused::Operand::out:
        return static_cast<T*>(out[o.index]) + s;
      case Plan::Fused::Operand::temp:
        break;
    }
    return temps + o.index * kTile;
  };
  for (int64_t s = begin, n = 0; s < end; s += n) {
    n = std::min(kTile, end - s);
    if (f.cols > 0) n = std::min(n, f.cols - s % f.cols);  // a tile never crosses a row end
    for (const Plan::Fused::Instr& in : f.program) {
      auto fn = reinterpret_cast<TileFn<T>>(in.fn);
      int64_t sa = in.a.kind == Plan::Fused::Operand::ext ? in.a.stride : 1;
      int64_t sb = in.b.kind == Plan::Fused::Operand::ext ? in.b.stride : 1;
      fn(ptr(in.a, s), sa, in.unary ? nullptr : ptr(in.b, s), sb, ptr(in.y, s), n);
    }
  }
}

// A group ending in a reduction: each task computes whole runs of `red` elements into a buffer,
// then the reduction kernel reduce_sum's eval runs reduces them (the same code, so the same bits).
// The program (generated kernel or tiles) runs over the task's elements as positions [0, len)
// with every pointer moved to the task's first element: runs start at row starts (red is a
// multiple of the last axis whenever a row or column input exists), so a row input is read at
// the same position in its row and a column input's pointer moves by whole rows.
template <class T>
void run_reduction(const Plan::Fused& f, const std::vector<const void*>& ext, const std::vector<void*>& out) {
  const int64_t rows = f.size / f.red;
  const bool whole = rows == 1;
  const int64_t per_task = std::max<int64_t>(1, detail::kChunk / f.red);
  // Rows per block within a task: the block's values stay in L1/L2 until they are reduced.
  const int64_t per_block = std::max<int64_t>(1, kReduceBlock / f.red);
  detail::parallel_for(rows, per_task, [&](int64_t tb, int64_t te) {
    std::unique_ptr<T[]> scratch(new T[static_cast<size_t>(std::min(per_block, te - tb) * f.red)]);
    std::vector<T> temps(f.kernel ? 0 : static_cast<size_t>(std::max(f.temps, 1) * kTile));
    std::vector<const void*> e(ext.size());
    std::vector<void*> o(f.program_outputs());
    for (int64_t ob = tb; ob < te; ob += per_block) {
      const int64_t oe = std::min(te, ob + per_block);
      const int64_t base = ob * f.red, len = (oe - ob) * f.red;
      for (size_t k = 0; k < ext.size(); ++k) {
        const T* p = static_cast<const T*>(ext[k]);
        if (f.ext_reads[k] == FusedRead::full) p += base;
        else if (f.ext_reads[k] == FusedRead::column) p += base / f.cols;
        e[k] = p;
      }
      for (size_t k = 0; k < f.out_values.size(); ++k) o[k] = static_cast<T*>(out[k]) + base;
      o[f.out_values.size()] = scratch.get();
      if (f.kernel) f.kernel(e.data(), o.data(), 0, len);
      else run_tiles<T>(f, e.data(), o.data(), temps.data(), 0, len);
      reduce_runs(f.reduce, f.dtype, scratch.get(), oe - ob, f.red, static_cast<T*>(out[f.out_values.size()]) + ob,
                  whole);
    }
  });
}

template <class T>
void run_program(const Plan::Fused& f, const std::vector<const void*>& ext, const std::vector<void*>& out) {
  detail::parallel_for(f.size, detail::kChunk, [&](int64_t begin, int64_t end) {
    std::vector<T> temps(static_cast<size_t>(std::max(f.temps, 1) * kTile));
    run_tiles<T>(f, ext.data(), out.data(), temps.data(), begin, end);
  });
}

}  // namespace

FusedRead fused_read(const Shape& in, const Shape& out) {
  if (in == out) return FusedRead::full;
  if (numel(in) == 1) return FusedRead::scalar;
  // An empty output has no rows to split at (and a column of an empty row no element to read):
  // those broadcasts stay plain steps.
  if (in.size() > out.size() || out.empty() || numel(out) == 0) return FusedRead::none;
  Shape padded(out.size() - in.size(), 1);
  padded.insert(padded.end(), in.begin(), in.end());
  size_t r = out.size();
  bool row = padded[r - 1] == out[r - 1], column = r >= 2 && padded[r - 1] == 1;
  for (size_t i = 0; i + 1 < r; ++i) {
    if (padded[i] != 1) row = false;
    if (padded[i] != out[i]) column = false;
  }
  if (row) return FusedRead::row;
  if (column) return FusedRead::column;
  return FusedRead::none;
}

bool fusible(const Graph& g, const GraphNode& n) {
  Prim p = prim_of(n);
  if (!tile_table().count(p)) return false;
  DType d = g.values[n.outputs[0]].dtype;
  if (!is_floating(d)) return false;
  for (int v : n.inputs)
    if (g.values[v].dtype != d) return false;
  return true;
}

static_assert(std::is_same_v<ReduceSum::Attrs, ReduceAttrs> && std::is_same_v<ReduceProd::Attrs, ReduceAttrs> &&
              std::is_same_v<ReduceMax::Attrs, ReduceAttrs> && std::is_same_v<ReduceMin::Attrs, ReduceAttrs>);

bool fusible_reduction(const Graph& g, const GraphNode& n) {
  const Prim p = prim_of(n);
  if (!is_float_reduction(p) || n.inputs.size() != 1) return false;
  const GraphValue& in = g.values[n.inputs[0]];
  if (!is_floating(in.dtype) || g.values[n.outputs[0]].dtype != in.dtype || numel(in.shape) == 0) return false;
  // The four share ReduceAttrs (ops/prims.hpp).
  const ReduceView v = reduce_view(in.shape, static_cast<const ReduceAttrs*>(n.attrs.get())->axes);
  // Runs then start at row starts, where run_reduction moves a row or column input's pointer.
  const bool last_axis_inside = in.shape.empty() || v.red % in.shape.back() == 0;
  return v.direct && v.inner && v.red >= 1 && v.red <= kMaxFusedRun && last_axis_inside;
}

std::shared_ptr<Plan::Fused> Plan::Fused::build(const Graph& g, const std::vector<int>& nodes_in,
                                                const std::vector<int>& outputs) {
  auto f = std::make_shared<Fused>();
  std::vector<int> nodes = nodes_in;
  const GraphNode& last = g.nodes[nodes.back()];
  const bool reduces = is_float_reduction(prim_of(last));
  if (reduces) nodes.pop_back();
  const GraphValue& first = g.values[g.nodes[nodes.front()].outputs[0]];
  f->dtype = first.dtype;
  f->size = numel(first.shape);
  for (int v : outputs)
    if (!reduces || v != last.outputs[0]) f->out_values.push_back(v);
  std::map<int, Operand> where;  // value id -> operand
  for (size_t i = 0; i < f->out_values.size(); ++i)
    where[f->out_values[i]] = Operand{Operand::out, static_cast<int>(i), 1};
  if (reduces) {
    const int reduced = last.inputs[0];
    if (f->out_values.size() + 1 != outputs.size() || where.count(reduced) || g.values[reduced].shape != first.shape)
      throw Internal("[plan] a fused reduction must read the group's own value and be the group's output");
    f->reduce = prim_of(last);
    f->reduce_value = last.outputs[0];
    f->red = f->size / std::max<int64_t>(1, numel(g.values[last.outputs[0]].shape));
    where[reduced] = Operand{Operand::out, static_cast<int>(f->out_values.size()), 1};
  }
  // Last use of each member value inside the program, for temp reuse.
  std::map<int, size_t> last_use;
  for (size_t k = 0; k < nodes.size(); ++k)
    for (int v : g.nodes[nodes[k]].inputs) last_use[v] = k;
  std::vector<int> free_temps;
  for (size_t k = 0; k < nodes.size(); ++k) {
    const GraphNode& n = g.nodes[nodes[k]];
    const TileEntry& e = tile_table().at(prim_of(n));
    Instr in;
    in.fn = f->dtype == DType::float32 ? e.f32 : e.f64;
    in.functor = e.name;
    in.unary = e.unary;
    std::vector<Operand> ops;
    for (int v : n.inputs) {
      auto it = where.find(v);
      if (it == where.end()) {
        // A broadcast_to view is read through to what it broadcasts, when the group can read that
        // directly: the run then copies no expanded view into a contiguous buffer.
        int src = v;
        const GraphValue& gv = g.values[v];
        if (gv.kind == GraphValue::Kind::node_output && prim_of(g.nodes[gv.producer]) == Prim::broadcast_to) {
          int u = g.nodes[gv.producer].inputs[0];
          FusedRead r = fused_read(g.values[u].shape, first.shape);
          if (g.values[u].dtype == gv.dtype && r != FusedRead::none && r != FusedRead::full) src = u;
        }
        FusedRead read = fused_read(g.values[src].shape, first.shape);
        if (read == FusedRead::none)
          throw Internal("[plan] fused input " + shape_str(g.values[v].shape) + " cannot be read by a group of shape " +
                         shape_str(first.shape));
        Operand o{Operand::ext, static_cast<int>(f->ext_values.size()),
                  read == FusedRead::scalar || read == FusedRead::column ? 0 : 1, read};
        if (read == FusedRead::row || read == FusedRead::column) f->cols = first.shape.back();
        f->ext_values.push_back(src);
        f->ext_reads.push_back(read);
        it = where.emplace(v, o).first;
      }
      ops.push_back(it->second);
    }
    in.a = ops[0];
    if (!in.unary) in.b = ops[1];
    // Temps whose last reader is this instruction can hold its result.
    for (int v : n.inputs) {
      auto it = where.find(v);
      if (it->second.kind == Operand::temp && last_use[v] == k &&
          std::find(free_temps.begin(), free_temps.end(), it->second.index) == free_temps.end())
        free_temps.push_back(it->second.index);
    }
    int out_v = n.outputs[0];
    auto it = where.find(out_v);
    if (it == where.end()) {
      Operand o{Operand::temp, 0, 1};
      if (!free_temps.empty()) {
        o.index = free_temps.back();
        free_temps.pop_back();
      } else {
        o.index = f->temps++;
      }
      it = where.emplace(out_v, o).first;
    }
    in.y = it->second;
    f->program.push_back(in);
  }
  return f;
}

void Plan::Fused::run(const std::vector<const void*>& ext, const std::vector<void*>& out) const {
  if (reduce != Prim::count_) {
    if (dtype == DType::float32) run_reduction<float>(*this, ext, out);
    else run_reduction<double>(*this, ext, out);
    return;
  }
  if (kernel) {
    Kernel k = kernel;
    detail::parallel_for(size, detail::kChunk, [&](int64_t b, int64_t e) { k(ext.data(), out.data(), b, e); });
    return;
  }
  if (dtype == DType::float32) run_program<float>(*this, ext, out);
  else run_program<double>(*this, ext, out);
}

}  // namespace xf
