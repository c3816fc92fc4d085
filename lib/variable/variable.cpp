// Variables, their registry and collections, and initializers.
#include <algorithm>
#include <cstring>
#include <cmath>
#include <map>
#include <unordered_map>

#include "ops/prims.hpp"
#include "core/observer.hpp"
#include "ops/variable_state.hpp"
#include "variable/assign_fresh.hpp"
#include "xflow/name_scope.hpp"
#include "xflow/numerics.hpp"
#include "xflow/ops.hpp"
#include "xflow/variable.hpp"

namespace xf {
namespace {

// Names and collections; ids and the lookup by id are in ops (ops/variable_state.hpp).
struct Registry {
  std::mutex mu;
  std::map<std::string, int> names;  // name -> times used
  std::map<std::string, std::vector<std::weak_ptr<VariableState>>> collections;
};
Registry& registry() {
  static Registry* r = new Registry;
  return *r;
}

}  // namespace

Variable::Variable(const Tensor& initial, const std::string& name, bool trainable,
                   const std::vector<std::string>& collections, Loc loc) {
  if (!initial.defined()) raise(ErrorCode::invalid_argument, "Variable", "the initial value is an empty Tensor handle", loc);
  auto s = std::make_shared<VariableState>();
  s->dtype = initial.dtype();
  s->shape = initial.shape();
  s->trainable = trainable;
  // Own a private copy: the variable must not alias a buffer someone else can see.
  Tensor copy = Tensor::empty(initial.shape(), initial.dtype());
  Tensor c = initial.contiguous();
  if (c.size()) std::memcpy(copy.raw_data(), c.raw_data(), static_cast<size_t>(c.size()) * dtype_size(c.dtype()));
  s->value = copy;
  register_variable(s);
  Registry& r = registry();
  std::lock_guard<std::mutex> lock(r.mu);
  std::string base = name.empty() ? "Variable" : name;
  int& used = r.names[base];
  s->name = used == 0 ? base : base + "_" + std::to_string(used);
  ++used;
  r.collections["global_variables"].push_back(s);
  if (trainable) r.collections["trainable_variables"].push_back(s);
  for (const std::string& c2 : collections) r.collections[c2].push_back(s);
  state_ = std::move(s);
}

namespace {
const VariableState& checked(const std::shared_ptr<VariableState>& s) {
  if (!s) throw FailedPrecondition("[Variable] an empty Variable handle");
  return *s;
}
AttrsPtr var_attrs(const VariableState& s) {
  return make_attrs(VariableAttrs{s.id, s.dtype, s.shape, s.name});
}
std::vector<std::string> split_path(const std::string& path) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string::npos) end = path.size();
    if (end > start) parts.push_back(path.substr(start, end - start));
    start = end + 1;
  }
  return parts;
}
}  // namespace

std::string variable_read_scope(const std::string& active, const std::string& variable) {
  std::vector<std::string> a = split_path(active), v = split_path(variable);
  // The longest tail of the active scope that is a head of the variable's name is said once.
  size_t overlap = std::min(a.size(), v.size());
  for (; overlap > 0; --overlap)
    if (std::equal(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(overlap),
                   a.end() - static_cast<std::ptrdiff_t>(overlap)))
      break;
  std::string path = active;
  for (size_t i = overlap; i < v.size(); ++i) path += (path.empty() ? "" : "/") + v[i];
  return path;
}

Tensor Variable::value(Loc loc) const {
  const VariableState& s = checked(state_);
  // Names matter only to a recorder; other reads skip building the scope path.
  if (!names_recorded()) return apply(Prim::read_variable, var_attrs(s), {}, loc)[0];
  AbsoluteNameScope scope(variable_read_scope(current_name_scope(), s.name));
  return apply(Prim::read_variable, var_attrs(s), {}, loc)[0];
}

Tensor Variable::assign(const Tensor& v, Loc loc) const {
  const VariableState& s = checked(state_);
  if (!v.defined()) raise(ErrorCode::invalid_argument, "assign", "the value is an empty Tensor handle", loc);
  if (v.shape() != s.shape)
    raise(ErrorCode::shape, "assign",
          "variable '" + s.name + "' is " + shape_str(s.shape) + " " + dtype_name(s.dtype) + ", value is " +
              shape_str(v.shape()) + " " + dtype_name(v.dtype()),
          loc);
  Tensor x = v;
  if (v.dtype() != s.dtype) {
    if (promote_types(v.dtype(), s.dtype) != s.dtype || strict_dtypes())
      raise(ErrorCode::dtype, "assign",
            "variable '" + s.name + "' is " + shape_str(s.shape) + " " + dtype_name(s.dtype) + ", value is " +
                shape_str(v.shape()) + " " + dtype_name(v.dtype()),
            loc);
    x = cast(v, s.dtype, loc);
  }
  return apply(Prim::assign, var_attrs(s), {x}, loc)[0];
}

namespace {
// Whether `x` is the only handle on its description and its buffer: nothing else can read or
// write its bytes. (buffer() returns one more handle on the buffer, or on the description of a
// small tensor that holds its bytes inline.)
bool held_alone(const Tensor& x) {
  if (x.impl().use_count() != 1 || x.offset() != 0 || !x.is_contiguous()) return false;
  return x.buffer().use_count() == 2;
}
}  // namespace

// assign_add, assign_sub and the optimizers assign results they computed. With nothing observing
// the thread's ops (no tape, tracer or graph builder to record an assign) and the numerics check
// off, the assign primitive would only copy that result into a private buffer; when nobody else
// holds the result it becomes the value as it is (docs/decisions.md, 160 and 178).
Tensor assign_fresh(const Variable& var, Tensor x, Loc loc) {
  const std::shared_ptr<VariableState>& s = var.state();
  if (s && x.defined() && observers().empty() && !debug::check_numerics_enabled() && x.dtype() == s->dtype &&
      x.shape() == s->shape && held_alone(x)) {
    std::lock_guard<std::mutex> lock(s->mu);
    s->value = x;
    return x;
  }
  return var.assign(x, loc);
}

Tensor Variable::assign_add(const Tensor& delta, Loc loc) const {
  return assign_fresh(*this, add(value(loc), delta, loc), loc);
}
Tensor Variable::assign_sub(const Tensor& delta, Loc loc) const {
  return assign_fresh(*this, sub(value(loc), delta, loc), loc);
}

const std::string& Variable::name() const { return checked(state_).name; }
DType Variable::dtype() const { return checked(state_).dtype; }
const Shape& Variable::shape() const { return checked(state_).shape; }
bool Variable::trainable() const { return checked(state_).trainable; }
int64_t Variable::id() const { return checked(state_).id; }

// ---- initializers ----
namespace {
std::pair<double, double> fans(const Shape& s) {
  if (s.empty()) return {1, 1};
  if (s.size() == 1) return {static_cast<double>(s[0]), static_cast<double>(s[0])};
  double receptive = 1;
  for (size_t i = 0; i + 2 < s.size(); ++i) receptive *= static_cast<double>(s[i]);
  return {static_cast<double>(s[s.size() - 2]) * receptive, static_cast<double>(s.back()) * receptive};
}
// TensorFlow's truncated-normal initializers divide by this so the truncated draw keeps the
// requested variance.
constexpr double kTruncatedStd = 0.87962566103423978;
}  // namespace

Tensor glorot_uniform(const Shape& shape, DType d, Loc loc) {
  auto [in, out] = fans(shape);
  double limit = std::sqrt(6.0 / (in + out));
  return random_uniform(shape, -limit, limit, d, loc);
}
Tensor glorot_normal(const Shape& shape, DType d, Loc loc) {
  auto [in, out] = fans(shape);
  return truncated_normal(shape, 0, std::sqrt(2.0 / (in + out)) / kTruncatedStd, d, loc);
}
Tensor he_uniform(const Shape& shape, DType d, Loc loc) {
  double limit = std::sqrt(6.0 / fans(shape).first);
  return random_uniform(shape, -limit, limit, d, loc);
}
Tensor he_normal(const Shape& shape, DType d, Loc loc) {
  return truncated_normal(shape, 0, std::sqrt(2.0 / fans(shape).first) / kTruncatedStd, d, loc);
}

// ---- collections ----
namespace {
std::vector<Variable> live(const std::vector<std::weak_ptr<VariableState>>& list) {
  std::vector<Variable> out;
  for (const auto& w : list)
    if (auto s = w.lock()) out.push_back(Variable::from_state(std::move(s)));
  return out;
}
}  // namespace

std::vector<Variable> get_collection(const std::string& name) {
  Registry& r = registry();
  std::lock_guard<std::mutex> lock(r.mu);
  auto it = r.collections.find(name);
  return it == r.collections.end() ? std::vector<Variable>{} : live(it->second);
}
std::vector<Variable> global_variables() { return get_collection("global_variables"); }
std::vector<Variable> trainable_variables() { return get_collection("trainable_variables"); }

void add_to_collection(const std::string& name, const Variable& v) {
  if (!v.defined()) throw InvalidArgument("[add_to_collection] an empty Variable handle");
  Registry& r = registry();
  std::lock_guard<std::mutex> lock(r.mu);
  r.collections[name].push_back(v.state());
}

std::vector<std::string> collection_names() {
  Registry& r = registry();
  std::lock_guard<std::mutex> lock(r.mu);
  std::vector<std::string> out;
  for (const auto& [name, list] : r.collections)
    if (std::any_of(list.begin(), list.end(), [](const std::weak_ptr<VariableState>& w) { return !w.expired(); }))
      out.push_back(name);
  return out;
}

void reset_variables() {
  Registry& r = registry();
  std::lock_guard<std::mutex> lock(r.mu);
  r.names.clear();
  r.collections.clear();
}

}  // namespace xf
