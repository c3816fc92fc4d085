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
#include "graph/node.hpp"
#include "ops/random_state.hpp"
#include "xflow/numerics.hpp"

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

// Compiling a plan, phase by phase. Each phase reads what the earlier ones decided and fills in
// its part of the Plan.
struct Plan::Compiler {
  Plan& p;
  const Graph& g;
  size_t nv, nn;
  std::vector<std::vector<int>> consumers;  // value id -> node ids reading it
  std::set<int> outputs;                    // graph outputs and guarded values: kept per run
  std::vector<int> group_of;                // node id -> fusion group, or -1
  std::vector<std::vector<int>> groups;     // node ids in order
  std::vector<int> step_of_node;
  std::vector<int> root;                    // value id -> the value whose buffer it views

  explicit Compiler(Plan& plan)
      : p(plan), g(plan.graph_), nv(g.values.size()), nn(g.nodes.size()), consumers(nv), group_of(nn, -1),
        step_of_node(nn, -1), root(nv) {
    for (const GraphNode& n : g.nodes)
      for (int v : n.inputs) consumers[v].push_back(n.id);
    outputs.insert(g.outputs.begin(), g.outputs.end());
    for (const GraphGuard& gd : g.guards) outputs.insert(gd.value);
    for (size_t v = 0; v < nv; ++v) root[v] = static_cast<int>(v);
  }

  void run() {
    group_fusible_nodes();
    attach_reductions();
    make_steps();
    assign_levels();
    assign_slots();
    plan_arena();
    build_kernels();
  }

  // Phase 1: elementwise nodes join groups (node ids in order); a group runs at the position of
  // its last node.
  void group_fusible_nodes() {
    if (!p.options_.fuse) return;
    for (const GraphNode& n : g.nodes) {
      if (!fusible(g, n)) continue;
      const GraphValue& out = g.values[n.outputs[0]];
      bool inputs_ok = true;
      for (int v : n.inputs) {
        const GraphValue& iv = g.values[v];
        if (fused_read(iv.shape, out.shape) == FusedRead::none) inputs_ok = false;
      }
      if (!inputs_ok) continue;  // other broadcasting: a plain step
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
  }

  // Phase 1b: a reduction over the trailing axes of a group's value that nothing else reads ends
  // that group (decision 182): the value is then never stored whole. The group runs at the
  // reduction's position, so every outside reader of its members must come after it.
  void attach_reductions() {
    if (!p.options_.fuse) return;
    std::vector<bool> closed(groups.size(), false);
    for (const GraphNode& n : g.nodes) {
      if (!fusible_reduction(g, n)) continue;
      const int v = n.inputs[0];
      const GraphValue& gv = g.values[v];
      if (gv.kind != GraphValue::Kind::node_output || outputs.count(v) || consumers[v].size() != 1) continue;
      const int gi = group_of[gv.producer];
      if (gi < 0 || closed[gi] || groups[gi].empty() || groups[gi].back() > n.id) continue;
      const GraphValue& head = g.values[g.nodes[groups[gi].front()].outputs[0]];
      if (head.shape != gv.shape || head.dtype != gv.dtype) continue;
      bool later = true;
      for (int m : groups[gi])
        for (int c : consumers[g.nodes[m].outputs[0]])
          if (c != n.id && c < n.id && group_of[c] != gi) later = false;
      if (!later) continue;
      groups[gi].push_back(n.id);
      group_of[n.id] = gi;
      closed[gi] = true;
    }
  }

  // Phase 2: steps, ordered by the position of their last node.
  void make_steps() {
    std::vector<int> last_of_group(groups.size());
    for (size_t gi = 0; gi < groups.size(); ++gi) last_of_group[gi] = groups[gi].empty() ? -1 : groups[gi].back();
    for (const GraphNode& n : g.nodes) {
      int gi = group_of[n.id];
      PlanStep s;
      if (gi >= 0 && groups[gi].size() > 1) {
        if (n.id != last_of_group[gi]) continue;
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
      } else {
        s.nodes = {n.id};
        std::set<int> seen;
        for (int v : n.inputs)
          if (seen.insert(v).second) s.inputs.push_back(v);
        s.outputs = n.outputs;
      }
      for (int m : s.nodes) step_of_node[m] = static_cast<int>(p.steps_.size());
      p.steps_.push_back(std::move(s));
    }
  }

  // Phase 3: levels of steps that do not depend on each other. Reads and assignments of one
  // variable keep their graph order: each depends on the previous.
  void assign_levels() {
    std::vector<PlanStep>& steps = p.steps_;
    std::vector<int> after(steps.size(), -1);
    // Steps touching one variable, or one queue, keep graph order.
    std::map<std::pair<int, int64_t>, int> last_step_of_state;
    for (size_t si = 0; si < steps.size(); ++si)
      for (int node : steps[si].nodes) {
        std::pair<int, int64_t> key;
        if (const VariableAttrs* var = variable_of(g.nodes[node])) key = {0, var->var_id};
        else if (const QueueAttrs* q = queue_of(g.nodes[node])) key = {1, q->queue_id};
        else continue;
        auto it = last_step_of_state.find(key);
        if (it != last_step_of_state.end()) after[si] = it->second;
        last_step_of_state[key] = static_cast<int>(si);
      }
    int max_level = -1;
    for (size_t si = 0; si < steps.size(); ++si) {
      PlanStep& s = steps[si];
      int level = 0;
      for (int v : s.inputs) {
        const GraphValue& iv = g.values[v];
        if (iv.kind == GraphValue::Kind::node_output)
          level = std::max(level, steps[step_of_node[iv.producer]].level + 1);
      }
      if (after[si] >= 0) level = std::max(level, steps[after[si]].level + 1);
      s.level = level;
      max_level = std::max(max_level, level);
    }
    p.levels_.assign(static_cast<size_t>(max_level + 1), {});
    p.level_has_random_.assign(p.levels_.size(), 0);
    for (size_t i = 0; i < steps.size(); ++i) {
      p.levels_[steps[i].level].push_back(static_cast<int>(i));
      for (int node : steps[i].nodes)
        if (def_of(g.nodes[node]).traits.random) p.level_has_random_[steps[i].level] = 1;
    }
  }

  // Phase 4: where each value lives (input, constant, arena, fresh per run, view, internal to a
  // fused step).
  void assign_slots() {
    std::vector<ValueSlot>& slots = p.slots_;
    slots.assign(nv, ValueSlot{});
    for (const GraphValue& v : g.values) {
      ValueSlot& s = slots[v.id];
      s.bytes = value_bytes(v);
      if (v.kind == GraphValue::Kind::placeholder) s.kind = ValueSlot::Kind::input;
      else if (v.kind == GraphValue::Kind::constant) s.kind = ValueSlot::Kind::constant;
    }
    std::set<int> materialized;
    for (const PlanStep& s : p.steps_)
      for (int v : s.outputs) materialized.insert(v);
    for (const GraphNode& n : g.nodes) {
      const Traits& tr = def_of(n).traits;
      for (int v : n.outputs) {
        if (!materialized.count(v)) {
          slots[v].kind = ValueSlot::Kind::internal;
        } else if (tr.stateful) {
          slots[v].kind = ValueSlot::Kind::view;  // the variable's own tensor, made by eval
        } else if (tr.view) {
          slots[v].kind = ValueSlot::Kind::view;
          root[v] = root[n.inputs[0]];
        } else {
          slots[v].kind = p.options_.plan_memory ? ValueSlot::Kind::arena : ValueSlot::Kind::fresh;
        }
      }
    }
    // Outputs (and guarded values) and everything they view are fresh per run: the caller keeps them.
    for (int v : outputs)
      if (slots[root[v]].kind == ValueSlot::Kind::arena) slots[root[v]].kind = ValueSlot::Kind::fresh;
    mark_adopting_assigns();
  }

  // An assign copies its input into a new tensor, because the input may be an arena buffer that
  // the next run overwrites. When the input is computed by a fused or elementwise step (which
  // write into the buffer the plan hands them) and nothing but this assign reads it, the value
  // gets a fresh buffer per run instead and the assign makes that buffer the variable's tensor:
  // an optimizer's update is then written once, straight into the variable's next value. A value
  // the caller receives (an output or a guarded value) or that a view reads keeps the copy.
  void mark_adopting_assigns() {
    std::vector<ValueSlot>& slots = p.slots_;
    for (PlanStep& s : p.steps_) {
      if (s.fused || s.nodes.size() != 1) continue;
      const GraphNode& n = g.nodes[s.nodes[0]];
      if (!attrs_if<Assign>(n) || n.inputs.size() != 1) continue;
      const int v = n.inputs[0];
      const GraphValue& gv = g.values[v];
      if (gv.kind != GraphValue::Kind::node_output || root[v] != v || outputs.count(v)) continue;
      if (consumers[v].size() != 1) continue;  // read by the assign alone (and once)
      if (slots[v].kind != ValueSlot::Kind::arena && slots[v].kind != ValueSlot::Kind::fresh) continue;
      const PlanStep& producer = p.steps_[step_of_node[gv.producer]];
      const Traits& tr = def_of(g.nodes[gv.producer]).traits;
      if (!producer.fused && !(tr.elementwise && !tr.view && !tr.stateful)) continue;
      slots[v].kind = ValueSlot::Kind::fresh;
      s.adopt = true;
    }
  }

  // Phase 5: arena offsets by liveness of arena roots, level by level; an elementwise step may
  // write over an input that dies there.
  void plan_arena() {
    std::vector<ValueSlot>& slots = p.slots_;
    std::vector<int> def_level(nv, -1), last_level(nv, -1), readers(nv, 0);
    for (const PlanStep& s : p.steps_) {
      for (int v : s.outputs) def_level[v] = s.level;
      for (int v : s.inputs) {
        last_level[root[v]] = std::max(last_level[root[v]], s.level);
        ++readers[root[v]];
      }
    }
    std::vector<int> order;
    for (size_t v = 0; v < nv; ++v)
      if (slots[v].kind == ValueSlot::Kind::arena) {
        if (last_level[v] < def_level[v]) last_level[v] = def_level[v];
        order.push_back(static_cast<int>(v));
      }
    std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return def_level[a] < def_level[b]; });
    struct Block {
      int64_t offset, bytes;
      int free_after;  // level after which the block is free
    };
    std::vector<Block> blocks;
    int64_t& arena_bytes = p.arena_bytes_;
    arena_bytes = 0;
    std::vector<bool> taken_inplace(nv, false);
    for (int v : order) {
      ValueSlot& s = slots[v];
      int64_t need = align_up(std::max<int64_t>(s.bytes, 1));
      int level = def_level[v];
      // In place: a plain elementwise step whose first input is an arena root read only here.
      const GraphValue& gv = g.values[v];
      const PlanStep& st = p.steps_[step_of_node[gv.producer]];
      if (p.options_.inplace && !st.fused) {
        const GraphNode& n = g.nodes[gv.producer];
        int in0 = n.inputs.empty() ? -1 : n.inputs[0];
        if (def_of(n).traits.inplace && in0 >= 0 && root[in0] == in0 && slots[in0].kind == ValueSlot::Kind::arena &&
            readers[in0] == 1 && !taken_inplace[in0] && align_up(slots[in0].bytes) == need &&
            g.values[in0].dtype == gv.dtype && n.outputs.size() == 1 &&
            std::count(n.inputs.begin(), n.inputs.end(), in0) == 1) {
          s.offset = slots[in0].offset;
          s.inplace_of = in0;
          taken_inplace[in0] = true;
          for (Block& b : blocks)
            if (b.offset == s.offset) b.free_after = last_level[v];
          continue;
        }
      }
      int best = -1;
      for (size_t i = 0; i < blocks.size(); ++i)
        if (blocks[i].free_after < level && blocks[i].bytes >= need &&
            (best < 0 || blocks[i].bytes < blocks[best].bytes))
          best = static_cast<int>(i);
      if (best >= 0) {
        s.offset = blocks[best].offset;
        blocks[best].free_after = last_level[v];
      } else {
        s.offset = arena_bytes;
        arena_bytes += need;
        blocks.push_back(Block{s.offset, need, last_level[v]});
      }
    }
    p.output_bytes_ = 0;
    for (size_t v = 0; v < nv; ++v)
      if (slots[v].kind == ValueSlot::Kind::fresh) p.output_bytes_ += align_up(slots[v].bytes);
  }

  // Phase 6: the fused groups' programs, compiled to native kernels where asked.
  void build_kernels() {
    p.fused_.assign(p.steps_.size(), nullptr);
    for (size_t i = 0; i < p.steps_.size(); ++i) {
      if (!p.steps_[i].fused) continue;
      p.fused_[i] = Fused::build(g, p.steps_[i].nodes, p.steps_[i].outputs);
      // Very long chains stay interpreted: one huge loop body thrashes the instruction cache
      // (G200: 200 fused ops ran 2.5x slower generated than interpreted).
      if (p.options_.codegen && p.fused_[i]->program.size() <= kMaxGeneratedInstructions) {
        p.fused_[i]->kernel = compile_kernel(*p.fused_[i], &p.fused_[i]->kernel_hash);
        if (!p.fused_[i]->kernel) p.fused_[i]->kernel_hash.clear();
      }
    }
  }
};

// One run's values: the arena and, per value id, the tensor it has during the run (constants and
// arena views prebuilt; inputs, fresh outputs and views set while running).
struct Plan::RunState {
  std::shared_ptr<Buffer> arena;
  std::vector<Tensor> env;
  std::vector<PlanProfileEntry> profile;

  // Drops per-run references so that outputs and inputs are not kept alive by an idle state.
  void release(const std::vector<ValueSlot>& slots) {
    for (size_t v = 0; v < env.size(); ++v)
      if (slots[v].kind != ValueSlot::Kind::constant && slots[v].kind != ValueSlot::Kind::arena) env[v] = Tensor();
  }
};

Plan::Plan(const Graph& g, PlanOptions options) : graph_(g), options_(options) {
  graph_.validate();
  Compiler(*this).run();
}

Plan::~Plan() = default;

std::unique_ptr<Plan::RunState> Plan::take_state() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!idle_.empty()) {
      std::unique_ptr<RunState> s = std::move(idle_.back());
      idle_.pop_back();
      return s;
    }
  }
  auto s = std::make_unique<RunState>();
  s->arena = Buffer::allocate(static_cast<size_t>(std::max<int64_t>(arena_bytes_, 1)));
  s->env.assign(graph_.values.size(), Tensor());
  for (const GraphValue& v : graph_.values) {
    const ValueSlot& slot = slots_[v.id];
    if (slot.kind == ValueSlot::Kind::constant) s->env[v.id] = v.constant;
    if (slot.kind == ValueSlot::Kind::arena)
      s->env[v.id] =
          Tensor::view(s->arena, v.dtype, v.shape, contiguous_strides(v.shape), slot.offset / dtype_size(v.dtype));
  }
  return s;
}

void Plan::give_back(std::unique_ptr<RunState> state) {
  state->release(slots_);
  std::lock_guard<std::mutex> lock(mu_);
  idle_.push_back(std::move(state));
}

int64_t Plan::peak_bytes() const { return arena_bytes_ + output_bytes_; }

std::vector<Tensor> Plan::run(const std::vector<Tensor>& inputs, Loc loc) { return execute(inputs, nullptr, loc); }

std::vector<Tensor> Plan::run_observed(const std::vector<Tensor>& inputs, const StepObserver& observer, Loc loc) {
  return execute(inputs, &observer, loc);
}

std::vector<Tensor> Plan::execute(const std::vector<Tensor>& args, const StepObserver* observer, Loc loc) {
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
  }
  std::unique_ptr<RunState> state = take_state();
  std::vector<Tensor>& env = state->env;
  for (size_t i = 0; i < args.size(); ++i) env[g.inputs[i]] = args[i];
  const bool profiling = profiling_.load();
  if (profiling) state->profile.assign(steps_.size(), PlanProfileEntry{});

  auto run_step = [&](int si) {
    const PlanStep& s = steps_[si];
    std::chrono::steady_clock::time_point t0;
    if (profiling) t0 = std::chrono::steady_clock::now();
    for (int v : s.outputs)
      if (slots_[v].kind == ValueSlot::Kind::fresh) env[v] = Tensor::empty(g.values[v].shape, g.values[v].dtype);
    if (s.fused) {
      const Fused& f = *fused_[si];
      std::vector<Tensor> keep;  // contiguous copies of strided inputs live until the kernel ends
      std::vector<const void*> ext;
      ext.reserve(f.ext_values.size());
      for (int v : f.ext_values) {
        const Tensor& t = env[v];
        if (t.is_contiguous()) {
          ext.push_back(t.raw_data());
        } else {
          keep.push_back(t.contiguous());
          ext.push_back(keep.back().raw_data());
        }
      }
      std::vector<void*> out;
      out.reserve(f.out_values.size());
      for (int v : f.out_values) out.push_back(env[v].raw_data());
      if (f.reduce_value >= 0) out.push_back(env[f.reduce_value].raw_data());
      f.run(ext, out);
    } else if (s.adopt) {
      // The input's fresh buffer becomes the variable's tensor (mark_adopting_assigns).
      const GraphNode& n = g.nodes[s.nodes[0]];
      try {
        env[n.outputs[0]] = assign_adopting(*attrs_if<Assign>(n), env[n.inputs[0]]);
      } catch (const Error& e) {
        raise(e.code(), def_of(n).name, e.what(), Loc::at(n.file.c_str(), n.line));  // as eval_kernel does
      }
    } else {
      const GraphNode& n = g.nodes[s.nodes[0]];
      Tensors in;
      in.reserve(n.inputs.size());
      for (int v : n.inputs) in.push_back(env[v]);
      Tensors out(n.outputs.size());
      if (!def_of(n).traits.view)
        for (size_t k = 0; k < n.outputs.size(); ++k) out[k] = env[n.outputs[k]];
      detail::eval_kernel(n, in, out);
      for (size_t k = 0; k < n.outputs.size(); ++k) env[n.outputs[k]] = out[k];
    }
    if (profiling) {
      PlanProfileEntry& pe = state->profile[si];
      pe.step = si;
      pe.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      for (int v : s.outputs) pe.bytes += slots_[v].bytes;
    }
  };

  // The numerics-checking mode (xflow/numerics.hpp) checks every node's outputs after its step; a
  // fused step's nodes are evaluated again one by one with the eager kernels (bitwise what the fused
  // kernel computes), so the node named is the first one that made a NaN or an Inf, inside a group
  // too. Steps then run one at a time, so "first" is graph order.
  const bool checking = debug::check_numerics_enabled();
  auto check_step = [&](int si) {
    const PlanStep& s = steps_[si];
    if (!s.fused) {
      detail::check_node_numerics(g.nodes[s.nodes[0]], env);
      return;
    }
    std::vector<Tensor> local = env;
    for (int m : s.nodes) {
      detail::eval_node(g, g.nodes[m], local);
      detail::check_node_numerics(g.nodes[m], local);
    }
  };

  try {
    for (size_t li = 0; li < levels_.size(); ++li) {
      const std::vector<int>& level = levels_[li];
      // Random steps draw counters in graph order, as eager would: they never run concurrently.
      bool concurrent = options_.parallel && level.size() > 1 && observer == nullptr && !level_has_random_[li] &&
                        !checking;
      if (concurrent) {
        detail::parallel_for(static_cast<int64_t>(level.size()), 1, [&](int64_t b, int64_t e) {
          for (int64_t i = b; i < e; ++i) run_step(level[i]);
        });
      } else {
        for (int si : level) {
          run_step(si);
          if (checking) check_step(si);
          if (observer) {
            std::vector<std::pair<int, Tensor>> vals;
            for (int v : steps_[si].outputs) vals.emplace_back(v, env[v]);
            (*observer)(si, vals);
          }
        }
      }
    }
  } catch (...) {
    give_back(std::move(state));
    throw;
  }
  // Guards: the host reads of the trace must see the same values, or the replay is void.
  for (size_t i = 0; i < g.guards.size(); ++i) {
    const GraphGuard& gd = g.guards[i];
    if (bitwise_equal(env[gd.value], gd.expected)) continue;
    auto describe = [](const Tensor& t) {
      return t.size() <= 16 ? t.str() : shape_str(t.shape()) + " " + dtype_name(t.dtype()) + " tensor";
    };
    std::string msg = "[trace] guard at " + Loc::at(gd.file.c_str(), gd.line).str() + " failed: the traced call read " +
                      describe(gd.expected) + ", this call has " + describe(env[gd.value]);
    give_back(std::move(state));
    throw GuardFailure(msg, static_cast<int>(i));
  }
  std::vector<Tensor> result;
  result.reserve(g.outputs.size());
  for (int v : g.outputs) result.push_back(env[v]);
  if (profiling) {
    std::lock_guard<std::mutex> lock(mu_);
    profile_ = state->profile;
  }
  give_back(std::move(state));
  return result;
}

std::string Plan::kernel_hash(int step) const {
  if (step < 0 || static_cast<size_t>(step) >= fused_.size())
    throw InvalidArgument("[plan] kernel_hash: step " + std::to_string(step) + " is not a step of this plan (it has " +
                          std::to_string(fused_.size()) + ")");
  return fused_[static_cast<size_t>(step)] ? fused_[static_cast<size_t>(step)]->kernel_hash : std::string();
}

std::vector<GraphProvenance> Plan::provenance() const {
  std::vector<GraphProvenance> out;
  for (const PlanStep& s : steps_)
    if (s.fused) {
      std::string ops;
      for (int n : s.nodes) ops += (ops.empty() ? "" : ", ") + graph_.nodes[n].scope;
      const Fused& f = *fused_[&s - steps_.data()];
      out.push_back(GraphProvenance{"fuse", "fused", s.nodes,
                                    std::to_string(s.nodes.size()) + " nodes in one " +
                                        (f.kernel ? "generated kernel [fused_" + f.kernel_hash + "]" : "interpreted kernel") +
                                        ": " + ops});
    }
  for (const PlanStep& s : steps_)
    if (s.adopt) {
      const GraphNode& n = graph_.nodes[s.nodes[0]];
      const int v = n.inputs[0];
      out.push_back(GraphProvenance{"plan_memory", "adopt", {graph_.values[v].producer, n.id},
                                    "assign to variable '" + attrs_if<Assign>(n)->name + "' keeps value " +
                                        std::to_string(v) + "'s buffer (fresh per run) instead of copying it"});
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
