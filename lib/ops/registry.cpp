// The table of primitives, built from the one list; apply().
#include <algorithm>
#include <memory>
#include <unordered_map>

#include "core/observer.hpp"
#include "core/tensor_impl.hpp"
#include "ops/prims.hpp"
#include "xflow/numerics.hpp"

namespace xf {
namespace {

const OpDef kDefs[] = {
#define XFLOW_PRIM_DEF(id, S) make_def<S>(),
    XFLOW_PRIMITIVES(XFLOW_PRIM_DEF)
#undef XFLOW_PRIM_DEF
};
// Names are how JSON, the viewer and tests find a primitive: two primitives with one name (a
// copied declaration whose name was not changed) do not compile. (The table's size needs no check:
// the table and the enum are both expanded from the one list.)
constexpr const char* kNames[] = {
#define XFLOW_PRIM_NAME(id, S) S::name,
    XFLOW_PRIMITIVES(XFLOW_PRIM_NAME)
#undef XFLOW_PRIM_NAME
};
constexpr bool same_name(const char* a, const char* b) {
  while (*a != '\0' && *a == *b) {
    ++a;
    ++b;
  }
  return *a == *b;
}
constexpr bool names_unique() {
  for (int i = 0; i < kNumPrims; ++i)
    for (int j = 0; j < i; ++j)
      if (same_name(kNames[i], kNames[j])) return false;
  return true;
}
static_assert(names_unique(), "two primitives have the same name");

// What one apply() call builds besides its results, kept per thread between calls: assigning into
// these reuses their memory, so the input specs, the inputs of an initializer list and the
// outputs of apply1 allocate nothing on the common path (W1 in docs/benchmarks.md). apply()
// nests (composite kernels, observers), hence a stack with one entry per depth.
struct Scratch {
  Specs specs;      // the input specs
  Tensors inputs;   // apply1's inputs when given as an initializer list
  Tensors outputs;  // apply1's outputs
};
thread_local bool t_scratch_gone = false;  // trivially destructible: readable during thread exit
struct ScratchStack {
  std::vector<std::unique_ptr<Scratch>> entries;
  size_t depth = 0;
  ~ScratchStack() { t_scratch_gone = true; }
};
thread_local ScratchStack t_scratch;

// Lends the scratch of the current depth; after the thread's stack is destroyed (an op run from
// a thread-exit destructor), a scratch of its own. Leaves no tensor behind, also when the op throws.
class ScratchScope {
 public:
  ScratchScope() {
    if (t_scratch_gone) {
      own_ = std::make_unique<Scratch>();
      scratch_ = own_.get();
      return;
    }
    ScratchStack& st = t_scratch;
    if (st.depth == st.entries.size()) st.entries.push_back(std::make_unique<Scratch>());
    scratch_ = st.entries[st.depth++].get();
    pooled_ = true;
  }
  ~ScratchScope() {
    scratch_->inputs.clear();
    scratch_->outputs.clear();
    if (pooled_) --t_scratch.depth;
  }
  ScratchScope(const ScratchScope&) = delete;
  ScratchScope& operator=(const ScratchScope&) = delete;
  Scratch& get() { return *scratch_; }

 private:
  Scratch* scratch_ = nullptr;
  std::unique_ptr<Scratch> own_;
  bool pooled_ = false;
};

}  // namespace

namespace detail {
Tensor empty_tensor(Shape shape, DType d);  // core/tensor.cpp
Tensor empty_of_shape(const Shape& shape, DType d);  // core/tensor.cpp
}  // namespace detail

const OpDef& op_def(Prim p) { return kDefs[static_cast<int>(p)]; }

const AttrsPtr& no_attrs() {
  static const AttrsPtr attrs = make_attrs(NoAttrs{});
  return attrs;
}

Prim prim_from_name(const std::string& name) {
  static const auto* index = [] {
    auto* m = new std::unordered_map<std::string, Prim>;
    for (int i = 0; i < kNumPrims; ++i) (*m)[kDefs[i].name] = static_cast<Prim>(i);
    return m;
  }();
  auto it = index->find(name);
  if (it == index->end()) throw NotFound("[op] unknown primitive '" + name + "'");
  return it->second;
}

std::string spec_str(const TensorSpec& s) { return shape_str(s.shape) + " " + dtype_name(s.dtype); }

std::string specs_str(const Specs& in, const char* const* names) {
  static const char* const kDefault[] = {"a", "b", "c", "d", "e", "f", "g", "h"};
  std::string out;
  for (size_t i = 0; i < in.size(); ++i) {
    if (i) out += ", ";
    if (names) out += names[i];
    else if (in.size() == 1) out += "x";
    else if (i < 8) out += kDefault[i];
    else out += "input " + std::to_string(i);
    out += " is " + spec_str(in[i]);
  }
  return out;
}

Shape infer_broadcast(const Specs& in) {
  // One pass per input over a result of the final rank (missing leading axes count as 1), so the
  // result is allocated once.
  bool same = !in.empty();
  for (const auto& s : in) same = same && s.shape == in[0].shape;
  if (same) return in[0].shape;  // the common case: nothing to broadcast
  size_t n = 0;
  for (const auto& s : in) n = std::max(n, s.shape.size());
  Shape out(n, 1);
  for (const auto& s : in) {
    size_t lead = n - s.shape.size();
    for (size_t i = 0; i < s.shape.size(); ++i) {
      int64_t& da = out[lead + i];
      int64_t db = s.shape[i];
      if (da == db || db == 1) continue;
      if (da == 1) da = db;
      else infer_fail(ErrorCode::shape, "shapes cannot be broadcast: " + specs_str(in));
    }
  }
  return out;
}

void infer_fail(ErrorCode code, const std::string& message) { throw_error(code, message); }

Tensors vjp_pending(const char* op) {
  throw Unimplemented("[" + std::string(op) + "] gradient not implemented yet");
}

namespace {

// The primitive's infer; an error gets "[op]" and the caller's location.
Specs infer(const OpDef& def, const AttrsPtr& attrs, const Specs& specs, Loc loc) {
  try {
    return def.infer(attrs.get(), specs);
  } catch (const Error& e) {
    raise(e.code(), def.name, e.what(), loc);
  }
}

// infer, allocate, eval, notify; `outputs` arrives empty and leaves with the results.
void run(Prim p, const AttrsPtr& attrs, const Tensors& inputs, Loc loc, Specs& specs, Tensors& outputs) {
  const OpDef& def = op_def(p);
  specs.resize(inputs.size());
  for (size_t i = 0; i < inputs.size(); ++i) {
    const Tensor& t = inputs[i];
    if (!t.defined()) raise(ErrorCode::invalid_argument, def.name, "an input is an empty Tensor handle", loc);
    specs[i].dtype = t.dtype();
    specs[i].shape = t.shape();
  }
  Specs out_specs = infer(def, attrs, specs, loc);
  outputs.resize(out_specs.size());
  if (!def.traits.view)
    for (size_t i = 0; i < out_specs.size(); ++i)
      outputs[i] = detail::empty_tensor(std::move(out_specs[i].shape), out_specs[i].dtype);
  try {
    def.eval(attrs.get(), inputs, outputs);
  } catch (const Error& e) {
    raise(e.code(), def.name, e.what(), loc);
  }
  // The numerics-checking mode (xflow/numerics.hpp): off, one relaxed load.
  if (debug::check_numerics_enabled()) debug::check_outputs(def.name, "", inputs, outputs, loc);
  const auto& obs = observers();
  if (!obs.empty()) {
    ApplyEvent ev{static_cast<int>(p), attrs, inputs, outputs, loc};
    for (DispatchObserver* o : obs) o->on_apply(ev);
  }
}

Tensor first_output(Prim p, Tensors& outputs) {
  if (outputs.empty()) throw Internal(std::string("[") + op_def(p).name + "] apply1 on a primitive without outputs");
  return std::move(outputs[0]);
}

}  // namespace


Tensor apply_elementwise_fast(Prim p, const Tensor& a, const Tensor* b, Loc loc) {
  const OpDef& def = op_def(p);
  const ElementwiseInfo* info = def.elementwise;
  if (!info || !info->flat || info->arity != (b ? 2 : 1)) return Tensor();
  if (!a.defined() || (b && !b->defined())) return Tensor();
  if (!observers().empty() || debug::check_numerics_enabled()) return Tensor();
  DType d = a.dtype();
  if (!domain_accepts(info->domain, d) || !a.is_contiguous()) return Tensor();
  const void* in[2] = {a.raw_data(), nullptr};
  int64_t steps[2] = {1, 1};
  const Shape* shape = &a.shape();
  if (b) {
    if (b->dtype() != d || !b->is_contiguous()) return Tensor();
    in[1] = b->raw_data();
    const Shape& sb = b->shape();
    if (sb != *shape) {
      // One 0-d operand against the other's shape: eval's broadcast plan is then one row in
      // which the 0-d operand steps by 0; a one-element result steps both by 0.
      if (shape->empty()) {
        steps[0] = 0;
        shape = &sb;
      } else if (sb.empty()) {
        steps[1] = 0;
      } else {
        return Tensor();
      }
      if (numel(*shape) == 1) steps[0] = steps[1] = 0;
    }
  }
  DType out_dtype = info->result == ew::Result::boolean ? DType::bool_ : d;
  Tensor out = detail::empty_of_shape(*shape, out_dtype);
  try {
    info->flat(d, in, steps, out.raw_data(), out.size());
  } catch (const Error& e) {
    raise(e.code(), def.name, e.what(), loc);
  }
  return out;
}

Tensors apply(Prim p, AttrsPtr attrs, Tensors inputs, Loc loc) {
  ScratchScope scope;
  Tensors outputs;
  run(p, attrs, inputs, loc, scope.get().specs, outputs);
  return outputs;
}

Tensor apply1(Prim p, const AttrsPtr& attrs, Tensors inputs, Loc loc) {
  ScratchScope scope;
  Scratch& s = scope.get();
  run(p, attrs, inputs, loc, s.specs, s.outputs);
  return first_output(p, s.outputs);
}

Tensor apply1(Prim p, const AttrsPtr& attrs, std::initializer_list<Tensor> inputs, Loc loc) {
  ScratchScope scope;
  Scratch& s = scope.get();
  s.inputs.assign(inputs.begin(), inputs.end());
  run(p, attrs, s.inputs, loc, s.specs, s.outputs);
  return first_output(p, s.outputs);
}

}  // namespace xf
