// The table of primitives, built from the one list; apply().
#include <unordered_map>

#include "core/observer.hpp"
#include "core/tensor_impl.hpp"
#include "ops/prims.hpp"

namespace xf {
namespace {

const OpDef kDefs[] = {
#define XFLOW_PRIM_DEF(id, S) make_def<S>(),
    XFLOW_PRIMITIVES(XFLOW_PRIM_DEF)
#undef XFLOW_PRIM_DEF
};
static_assert(sizeof(kDefs) / sizeof(kDefs[0]) == kNumPrims, "one definition per primitive");

}  // namespace

const OpDef& op_def(Prim p) { return kDefs[static_cast<int>(p)]; }

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
  Shape out;
  for (const auto& s : in) {
    size_t n = std::max(out.size(), s.shape.size());
    Shape next(n);
    for (size_t i = 0; i < n; ++i) {
      int64_t da = i < n - out.size() ? 1 : out[i - (n - out.size())];
      int64_t db = i < n - s.shape.size() ? 1 : s.shape[i - (n - s.shape.size())];
      if (da == db || db == 1) next[i] = da;
      else if (da == 1) next[i] = db;
      else infer_fail(ErrorCode::shape, "shapes cannot be broadcast: " + specs_str(in));
    }
    out = std::move(next);
  }
  return out;
}

void infer_fail(ErrorCode code, const std::string& message) { throw_error(code, message); }

Tensors vjp_pending(const char* op) {
  throw Unimplemented("[" + std::string(op) + "] gradient not implemented yet");
}

Tensors apply(Prim p, AttrsPtr attrs, Tensors inputs, Loc loc) {
  const OpDef& def = op_def(p);
  Specs specs;
  specs.reserve(inputs.size());
  for (const Tensor& t : inputs) {
    if (!t.defined()) raise(ErrorCode::invalid_argument, def.name, "an input is an empty Tensor handle", loc);
    specs.push_back(TensorSpec{t.dtype(), t.shape()});
  }
  Specs out_specs;
  try {
    out_specs = def.infer(attrs.get(), specs);
  } catch (const Error& e) {
    raise(e.code(), def.name, e.what(), loc);
  }
  Tensors outputs(out_specs.size());
  if (!def.traits.view)
    for (size_t i = 0; i < out_specs.size(); ++i) outputs[i] = Tensor::empty(out_specs[i].shape, out_specs[i].dtype);
  try {
    def.eval(attrs.get(), inputs, outputs);
  } catch (const Error& e) {
    raise(e.code(), def.name, e.what(), loc);
  }
  const auto& obs = observers();
  if (!obs.empty()) {
    ApplyEvent ev{static_cast<int>(p), attrs, inputs, outputs, loc};
    for (DispatchObserver* o : obs) o->on_apply(ev);
  }
  return outputs;
}

}  // namespace xf
