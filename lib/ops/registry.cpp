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

// The input specs of the apply() calls running on this thread, kept between calls: assigning
// shapes into them reuses their memory, so building the specs does not allocate (W1 of
// BENCHMARKS.md: three heap allocations fewer per op). apply() nests (composite kernels,
// observers), hence a stack with one entry per depth.
thread_local bool t_specs_gone = false;  // trivially destructible: readable during thread exit
struct SpecsStack {
  std::vector<std::unique_ptr<Specs>> entries;
  size_t depth = 0;
  ~SpecsStack() { t_specs_gone = true; }
};
thread_local SpecsStack t_specs;

// Lends the specs of the current depth; after the thread's stack is destroyed (an op run from a
// thread-exit destructor), a specs of its own.
class SpecsScope {
 public:
  SpecsScope() {
    if (t_specs_gone) {
      specs_ = &own_;
      return;
    }
    SpecsStack& st = t_specs;
    if (st.depth == st.entries.size()) st.entries.push_back(std::make_unique<Specs>());
    specs_ = st.entries[st.depth++].get();
    pooled_ = true;
  }
  ~SpecsScope() {
    if (pooled_) --t_specs.depth;
  }
  SpecsScope(const SpecsScope&) = delete;
  SpecsScope& operator=(const SpecsScope&) = delete;
  Specs& specs() { return *specs_; }

 private:
  Specs* specs_ = nullptr;
  Specs own_;
  bool pooled_ = false;
};

}  // namespace

namespace detail {
Tensor empty_tensor(Shape shape, DType d);  // core/tensor.cpp
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

Tensors apply(Prim p, AttrsPtr attrs, Tensors inputs, Loc loc) {
  const OpDef& def = op_def(p);
  SpecsScope scope;
  Specs& specs = scope.specs();
  specs.resize(inputs.size());
  for (size_t i = 0; i < inputs.size(); ++i) {
    const Tensor& t = inputs[i];
    if (!t.defined()) raise(ErrorCode::invalid_argument, def.name, "an input is an empty Tensor handle", loc);
    specs[i].dtype = t.dtype();
    specs[i].shape.assign(t.shape().begin(), t.shape().end());
  }
  Specs out_specs;
  try {
    out_specs = def.infer(attrs.get(), specs);
  } catch (const Error& e) {
    raise(e.code(), def.name, e.what(), loc);
  }
  Tensors outputs(out_specs.size());
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
  return outputs;
}

}  // namespace xf
