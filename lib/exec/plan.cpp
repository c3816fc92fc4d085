// Plan: fusion grouping, levels, the memory plan, and the executor.
#include "xflow/plan.hpp"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <map>
#include <set>

#include "core/parallel.hpp"
#include "exec/fusion.hpp"
#include "graph/eval.hpp"
#include "ops/prims.hpp"
#include "ops/random_state.hpp"

namespace xf {

namespace {
constexpr int64_t kAlign = 64;
int64_t align_up(int64_t n) { return (n + kAlign - 1) / kAlign * kAlign; }
int64_t value_bytes(const GraphValue& v) { return numel(v.shape) * dtype_size(v.dtype); }
constexpr size_t kMaxGeneratedInstructions = 48;
}  // namespace

bool codegen_default() {
  const char* v = std::getenv("XFLOW_CODEGEN");
  return !(v && std::string(v) == "0");
}

Plan::Plan(const Graph& g, PlanOptions options) : graph_(g), options_(options) {
  graph_.validate();
  compile();
}

void Plan::compile() {
  const Graph& g = graph_;
  size_t nv = g.values.size(), nn = g.nodes.size();
  std::vector<std::vector<int>> consumers(nv);  // node ids
  for (const GraphNode& n : g.nodes)
    for (int v : n.inputs) consumers[v].push_back(n.id);
  std::set<int> outputs(g.outputs.begin(), g.outputs.end());
  for (const GraphGuard& gd : g.guards) outputs.insert(gd.value);

  // ---- fusion groups (node ids in order); a group runs at the position of its last node ----
  std::vector<int> group_of(nn, -1);
  std::vector<std::vector<int>> groups;
  for (const GraphNode& n : g.nodes) {
    if (!options_.fuse || !fusible(g, n)) continue;
    const GraphValue& out = g.values[n.outputs[0]];
    bool inputs_ok = true;
    for (int v : n.inputs) {
      const GraphValue& iv = g.values[v];
      if (iv.shape != out.shape && numel(iv.shape) != 1) inputs_ok = false;
    }
    if (!inputs_ok) continue;  // general broadcasting: a plain step
    // The groups that produce n's inputs; n joins them all (merging them) when every outside
    // reader of their members comes after n, since the merged group runs at n's position.
    std::vector<int> candidates;
    for (int v : n.inputs) {
      const GraphValue& iv = g.values[v];
      if (iv.kind != GraphValue::Kind::node_output || group_of[iv.producer] < 0) continue;
      int gi = group_of[iv.producer];
      const GraphValue& head = g.values[g.nodes[groups[gi].front()].outputs[0]];
      if (head.shape != out.shape || head.dtype != out.dtype) continue;
      if (std::find(candidates.begin(), candidates.end(), gi) == candidates.end()) candidates.push_back(gi);
    }
    auto valid = [&](const std::vector<int>& gis) {
      for (int gi : gis)
        for (int m : groups[gi])
          for (int c : consumers[g.nodes[m].outputs[0]])
            if (c != n.id && c < n.id && std::find(gis.begin(), gis.end(), group_of[c]) == gis.end()) return false;
      return true;
    };
    std::vector<int> join;
    if (valid(candidates)) {
      join = candidates;
    } else {
      for (int gi : candidates)
        if (valid({gi})) {
          join = {gi};
          break;
        }
    }
    if (join.empty()) {
      group_of[n.id] = static_cast<int>(groups.size());
      groups.push_back({n.id});
      continue;
    }
    int target = join[0];
    for (size_t k = 1; k < join.size(); ++k) {
      for (int m : groups[join[k]]) {
        groups[target].push_back(m);
        group_of[m] = target;
      }
      groups[join[k]].clear();
    }
    std::sort(groups[target].begin(), groups[target].end());
    groups[target].push_back(n.id);
    group_of[n.id] = target;
  }

  // ---- steps, ordered by the position of their last node ----
  std::vector<int> step_of_node(nn, -1);
  std::vector<int> last_of_group(groups.size());
  for (size_t gi = 0; gi < groups.size(); ++gi) last_of_group[gi] = groups[gi].empty() ? -1 : groups[gi].back();
  for (const GraphNode& n : g.nodes) {
    int gi = group_of[n.id];
    if (gi >= 0 && groups[gi].size() > 1) {
      if (n.id != last_of_group[gi]) continue;
      PlanStep s;
      s.nodes = groups[gi];
      s.fused = true;
      std::set<int> members(s.nodes.begin(), s.nodes.end());
      std::set<int> seen;
      for (int m : s.nodes) {
        for (int v : g.nodes[m].inputs) {
          const GraphValue& iv = g.values[v];
          bool inside = iv.kind == GraphValue::Kind::node_output && members.count(iv.producer);
          if (!inside && seen.insert(v).second) s.inputs.push_back(v);
        }
        int ov = g.nodes[m].outputs[0];
        bool escapes = outputs.count(ov) > 0;
        for (int c : consumers[ov])
          if (!members.count(c)) escapes = true;
        if (escapes) s.outputs.push_back(ov);
      }
      for (int m : s.nodes) step_of_node[m] = static_cast<int>(steps_.size());
      steps_.push_back(std::move(s));
    } else {
      PlanStep s;
      s.nodes = {n.id};
      std::set<int> seen;
      for (int v : n.inputs)
        if (seen.insert(v).second) s.inputs.push_back(v);
      s.outputs = n.outputs;
      step_of_node[n.id] = static_cast<int>(steps_.size());
      steps_.push_back(std::move(s));
    }
  }

  // ---- levels ----
  // Reads and assignments of one variable keep their graph order: each depends on the previous.
  std::vector<int> after(steps_.size(), -1);
  {
    std::map<int64_t, int> last_step_of_var;
    for (size_t si = 0; si < steps_.size(); ++si)
      for (int node : steps_[si].nodes) {
        const GraphNode& n = g.nodes[node];
        if (!op_def(prim_from_name(n.op)).traits.stateful) continue;
        int64_t var = static_cast<const VariableAttrs*>(n.attrs.get())->var_id;
        auto it = last_step_of_var.find(var);
        if (it != last_step_of_var.end()) after[si] = it->second;
        last_step_of_var[var] = static_cast<int>(si);
      }
  }
  int max_level = -1;
  for (PlanStep& s : steps_) {
    int level = 0;
    for (int v : s.inputs) {
      const GraphValue& iv = g.values[v];
      if (iv.kind == GraphValue::Kind::node_output) level = std::max(level, steps_[step_of_node[iv.producer]].level + 1);
    }
    int prev = after[&s - steps_.data()];
    if (prev >= 0) level = std::max(level, steps_[prev].level + 1);
    s.level = level;
    max_level = std::max(max_level, level);
  }
  levels_.assign(static_cast<size_t>(max_level + 1), {});
  for (size_t i = 0; i < steps_.size(); ++i) levels_[steps_[i].level].push_back(static_cast<int>(i));

  // ---- slots ----
  slots_.assign(nv, ValueSlot{});
  std::vector<int> root(nv);
  for (size_t v = 0; v < nv; ++v) root[v] = static_cast<int>(v);
  for (const GraphValue& v : g.values) {
    ValueSlot& s = slots_[v.id];
    s.bytes = value_bytes(v);
    if (v.kind == GraphValue::Kind::placeholder) s.kind = ValueSlot::Kind::input;
    else if (v.kind == GraphValue::Kind::constant) s.kind = ValueSlot::Kind::constant;
  }
  std::set<int> materialized;
  for (const PlanStep& s : steps_)
    for (int v : s.outputs) materialized.insert(v);
  for (const GraphNode& n : g.nodes) {
    const Traits& tr = op_def(prim_from_name(n.op)).traits;
    bool view = tr.view;
    for (int v : n.outputs) {
      if (!materialized.count(v)) slots_[v].kind = ValueSlot::Kind::internal;
      else if (tr.stateful) {
        slots_[v].kind = ValueSlot::Kind::view;  // the variable's own tensor, made by eval
      } else if (view) {
        slots_[v].kind = ValueSlot::Kind::view;
        root[v] = root[n.inputs[0]];
      } else {
        slots_[v].kind = options_.plan_memory ? ValueSlot::Kind::arena : ValueSlot::Kind::fresh;
      }
    }
  }
  // Outputs (and guarded values) and everything they view are fresh per run: the caller keeps them.
  for (int v : outputs)
    if (slots_[root[v]].kind == ValueSlot::Kind::arena) slots_[root[v]].kind = ValueSlot::Kind::fresh;

  // ---- liveness of arena roots, by level ----
  std::vector<int> def_level(nv, -1), last_level(nv, -1), readers(nv, 0);
  for (const PlanStep& s : steps_) {
    for (int v : s.outputs) def_level[v] = s.level;
    for (int v : s.inputs) {
      last_level[root[v]] = std::max(last_level[root[v]], s.level);
      ++readers[root[v]];
    }
  }
  std::vector<int> order;
  for (size_t v = 0; v < nv; ++v)
    if (slots_[v].kind == ValueSlot::Kind::arena) {
      if (last_level[v] < def_level[v]) last_level[v] = def_level[v];
      order.push_back(static_cast<int>(v));
    }
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return def_level[a] < def_level[b]; });
  struct Block {
    int64_t offset, bytes;
    int free_after;  // level after which the block is free
  };
  std::vector<Block> blocks;
  arena_bytes_ = 0;
  std::vector<bool> taken_inplace(nv, false);
  for (int v : order) {
    ValueSlot& s = slots_[v];
    int64_t need = align_up(std::max<int64_t>(s.bytes, 1));
    int level = def_level[v];
    // In place: a plain elementwise step whose first input is an arena root read only here.
    const GraphValue& gv = g.values[v];
    const PlanStep& st = steps_[step_of_node[gv.producer]];
    if (options_.inplace && !st.fused) {
      const GraphNode& n = g.nodes[gv.producer];
      const OpDef& def = op_def(prim_from_name(n.op));
      int in0 = n.inputs.empty() ? -1 : n.inputs[0];
      if (def.traits.inplace && in0 >= 0 && root[in0] == in0 && slots_[in0].kind == ValueSlot::Kind::arena &&
          readers[in0] == 1 && !taken_inplace[in0] && align_up(slots_[in0].bytes) == need &&
          g.values[in0].dtype == gv.dtype && n.outputs.size() == 1 &&
          std::count(n.inputs.begin(), n.inputs.end(), in0) == 1) {
        s.offset = slots_[in0].offset;
        s.inplace_of = in0;
        taken_inplace[in0] = true;
        for (Block& b : blocks)
          if (b.offset == s.offset) b.free_after = last_level[v];
        continue;
      }
    }
    int best = -1;
    for (size_t i = 0; i < blocks.size(); ++i)
      if (blocks[i].free_after < level && blocks[i].bytes >= need && (best < 0 || blocks[i].bytes < blocks[best].bytes))
        best = static_cast<int>(i);
    if (best >= 0) {
      s.offset = blocks[best].offset;
      blocks[best].free_after = last_level[v];
    } else {
      s.offset = arena_bytes_;
      arena_bytes_ += need;
      blocks.push_back(Block{s.offset, need, last_level[v]});
    }
  }
  output_bytes_ = 0;
  for (size_t v = 0; v < nv; ++v)
    if (slots_[v].kind == ValueSlot::Kind::fresh) output_bytes_ += align_up(slots_[v].bytes);

  // ---- prebuilt tensors ----
  arena_ = Buffer::allocate(static_cast<size_t>(std::max<int64_t>(arena_bytes_, 1)));
  env_.assign(nv, Tensor());
  for (const GraphValue& v : g.values) {
    const ValueSlot& s = slots_[v.id];
    if (s.kind == ValueSlot::Kind::constant) env_[v.id] = v.constant;
    if (s.kind == ValueSlot::Kind::arena)
      env_[v.id] = Tensor::view(arena_, v.dtype, v.shape, contiguous_strides(v.shape), s.offset / dtype_size(v.dtype));
  }
  fused_.assign(steps_.size(), nullptr);
  for (size_t i = 0; i < steps_.size(); ++i)
    if (steps_[i].fused) {
      fused_[i] = Fused::build(g, steps_[i].nodes, steps_[i].outputs);
      // Very long chains stay interpreted: one huge loop body thrashes the instruction cache
      // (G200: 200 fused ops ran 2.5x slower generated than interpreted).
      if (options_.codegen && fused_[i]->program.size() <= kMaxGeneratedInstructions)
        fused_[i]->kernel = compile_kernel(*fused_[i]);
    }
}

int64_t Plan::peak_bytes() const { return arena_bytes_ + output_bytes_; }

std::vector<Tensor> Plan::run(const std::vector<Tensor>& inputs, Loc loc) { return execute(inputs, nullptr, loc); }

std::vector<Tensor> Plan::run_observed(const std::vector<Tensor>& inputs, const StepObserver& observer, Loc loc) {
  return execute(inputs, &observer, loc);
}

std::vector<Tensor> Plan::execute(const std::vector<Tensor>& args, const StepObserver* observer, Loc loc) {
  std::lock_guard<std::mutex> lock(mu_);
  const Graph& g = graph_;
  if (args.size() != g.inputs.size())
    raise(ErrorCode::invalid_argument, "plan.run",
          "expects " + std::to_string(g.inputs.size()) + " inputs, got " + std::to_string(args.size()), loc);
  for (size_t i = 0; i < args.size(); ++i) {
    const GraphValue& v = g.values[g.inputs[i]];
    if (!args[i].defined() || args[i].dtype() != v.dtype || args[i].shape() != v.shape)
      raise(ErrorCode::invalid_argument, "plan.run",
            "arg " + std::to_string(i) + " must be " + shape_str(v.shape) + " " + dtype_name(v.dtype) + ", got " +
                (args[i].defined() ? shape_str(args[i].shape()) + " " + dtype_name(args[i].dtype()) : "an empty handle"),
            loc);
    env_[g.inputs[i]] = args[i];
  }
  if (profiling_) profile_.assign(steps_.size(), PlanProfileEntry{});

  auto run_step = [&](int si) {
    const PlanStep& s = steps_[si];
    auto t0 = std::chrono::steady_clock::now();
    for (int v : s.outputs)
      if (slots_[v].kind == ValueSlot::Kind::fresh) env_[v] = Tensor::empty(g.values[v].shape, g.values[v].dtype);
    if (s.fused) {
      const Fused& f = *fused_[si];
      std::vector<Tensor> keep;  // contiguous copies of strided inputs live until the kernel ends
      std::vector<const void*> ext;
      for (int v : f.ext_values) {
        Tensor t = env_[v].contiguous();
        ext.push_back(t.raw_data());
        keep.push_back(std::move(t));
      }
      std::vector<void*> out;
      for (int v : f.out_values) out.push_back(env_[v].raw_data());
      f.run(ext, out);
    } else {
      const GraphNode& n = g.nodes[s.nodes[0]];
      const OpDef& def = op_def(prim_from_name(n.op));
      Tensors in;
      in.reserve(n.inputs.size());
      for (int v : n.inputs) in.push_back(env_[v]);
      Tensors out(n.outputs.size());
      if (!def.traits.view)
        for (size_t k = 0; k < n.outputs.size(); ++k) out[k] = env_[n.outputs[k]];
      detail::eval_kernel(n, in, out);
      for (size_t k = 0; k < n.outputs.size(); ++k) env_[n.outputs[k]] = out[k];
    }
    if (profiling_) {
      PlanProfileEntry& p = profile_[si];
      p.step = si;
      p.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      for (int v : s.outputs) p.bytes += slots_[v].bytes;
    }
  };

  try {
    for (const std::vector<int>& level : levels_) {
      // Random steps draw counters in graph order, as eager would: they never run concurrently.
      bool concurrent = options_.parallel && level.size() > 1 && observer == nullptr;
      for (int si : level)
        for (int node : steps_[si].nodes)
          if (op_def(prim_from_name(g.nodes[node].op)).traits.random) concurrent = false;
      if (concurrent) {
        detail::parallel_for(static_cast<int64_t>(level.size()), 1, [&](int64_t b, int64_t e) {
          for (int64_t i = b; i < e; ++i) run_step(level[i]);
        });
      } else {
        for (int si : level) {
          run_step(si);
          if (observer) {
            std::vector<std::pair<int, Tensor>> vals;
            for (int v : steps_[si].outputs) vals.emplace_back(v, env_[v]);
            (*observer)(si, vals);
          }
        }
      }
    }
  } catch (...) {
    for (size_t v = 0; v < env_.size(); ++v)
      if (slots_[v].kind != ValueSlot::Kind::constant && slots_[v].kind != ValueSlot::Kind::arena) env_[v] = Tensor();
    throw;
  }
  // Guards: the host reads of the trace must see the same values, or the replay is void.
  for (size_t i = 0; i < g.guards.size(); ++i) {
    const GraphGuard& gd = g.guards[i];
    if (bitwise_equal(env_[gd.value], gd.expected)) continue;
    auto describe = [](const Tensor& t) {
      return t.size() <= 16 ? t.str() : shape_str(t.shape()) + " " + dtype_name(t.dtype()) + " tensor";
    };
    std::string msg = "[trace] guard at " + Loc::at(gd.file.c_str(), gd.line).str() + " failed: the traced call read " +
                      describe(gd.expected) + ", this call has " + describe(env_[gd.value]);
    for (size_t v = 0; v < env_.size(); ++v)
      if (slots_[v].kind != ValueSlot::Kind::constant && slots_[v].kind != ValueSlot::Kind::arena) env_[v] = Tensor();
    throw GuardFailure(msg, static_cast<int>(i));
  }
  std::vector<Tensor> result;
  for (int v : g.outputs) result.push_back(env_[v]);
  // Drop per-run references so that outputs and inputs are not kept alive by the plan.
  for (size_t v = 0; v < env_.size(); ++v)
    if (slots_[v].kind != ValueSlot::Kind::constant && slots_[v].kind != ValueSlot::Kind::arena) env_[v] = Tensor();
  return result;
}

std::vector<GraphProvenance> Plan::provenance() const {
  std::vector<GraphProvenance> out;
  for (const PlanStep& s : steps_)
    if (s.fused) {
      std::string ops;
      for (int n : s.nodes) ops += (ops.empty() ? "" : ", ") + graph_.nodes[n].scope;
      out.push_back(GraphProvenance{"fuse", "fused", s.nodes,
                                    std::to_string(s.nodes.size()) + " nodes in one " +
                                        (fused_[&s - steps_.data()]->kernel ? "generated" : "interpreted") +
                                        " kernel: " + ops});
    }
  for (const GraphValue& v : graph_.values) {
    const ValueSlot& s = slots_[v.id];
    if (s.kind != ValueSlot::Kind::arena) continue;
    std::string detail = "value " + std::to_string(v.id) + " at arena offset " + std::to_string(s.offset) + " (" +
                         std::to_string(s.bytes) + " bytes)";
    if (s.inplace_of >= 0) detail += ", in place of value " + std::to_string(s.inplace_of);
    out.push_back(GraphProvenance{"plan_memory", "buffer", {v.producer}, detail});
  }
  return out;
}

std::string diff_replay(const Graph& g, const std::vector<Tensor>& inputs, PlanOptions options) {
  Plan plan(g, options);
  return diff_replay(g, plan, inputs);
}

std::string diff_replay(const Graph& g, Plan& plan, const std::vector<Tensor>& inputs) {
  if (plan.graph().values.size() != g.values.size() || plan.graph().nodes.size() != g.nodes.size())
    throw InvalidArgument("[diff_replay] the plan's graph does not have the reference graph's ids");
  auto state = random_state();
  // Reference: every node with the eager kernels, every value kept.
  std::vector<Tensor> ref(g.values.size());
  for (size_t i = 0; i < g.inputs.size(); ++i) ref[g.inputs[i]] = inputs.at(i);
  for (const GraphValue& v : g.values)
    if (v.kind == GraphValue::Kind::constant) ref[v.id] = v.constant;
  for (const GraphNode& n : g.nodes) detail::eval_node(g, n, ref);
  set_random_state(state);
  std::string first;
  plan.run_observed(inputs, [&](int, const std::vector<std::pair<int, Tensor>>& vals) {
    if (!first.empty()) return;
    for (const auto& [v, t] : vals) {
      if (bitwise_equal(t, ref[v])) continue;
      const GraphValue& gv = g.values[v];
      const GraphNode& n = g.nodes[gv.producer];
      first = "node " + std::to_string(n.id) + " (" + n.scope + ") at " + Loc::at(n.file.c_str(), n.line).str() +
              ": value " + std::to_string(v) + " differs between eager and replay";
      return;
    }
  });
  return first;
}

}  // namespace xf
