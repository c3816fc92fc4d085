// The primitive table: one definition per primitive, every part present and working.
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "core/observer.hpp"
#include "ops/prims.hpp"
#include "xflow/xflow.hpp"

using namespace xf;

namespace {
// Collects attribute names and renders values, as JSON and hashing will.
struct NameCollector : AttrVisitor {
  std::vector<std::string> names;
  void on(const char* n, bool&) override { names.push_back(n); }
  void on(const char* n, int64_t&) override { names.push_back(n); }
  void on(const char* n, double&) override { names.push_back(n); }
  void on(const char* n, DType&) override { names.push_back(n); }
  void on(const char* n, std::vector<int64_t>&) override { names.push_back(n); }
  void on(const char* n, std::string&) override { names.push_back(n); }
};
}  // namespace

TEST_CASE("every primitive has a unique name that maps back to it", "[registry]") {
  std::set<std::string> names;
  for (int i = 0; i < kNumPrims; ++i) {
    const OpDef& d = op_def(static_cast<Prim>(i));
    REQUIRE(d.name != nullptr);
    CHECK(names.insert(d.name).second);
    CHECK(prim_from_name(d.name) == static_cast<Prim>(i));
  }
  CHECK_THROWS_AS(prim_from_name("no_such_op"), NotFound);
}

TEST_CASE("attributes are visited by name and default-constructible", "[registry]") {
  auto attrs = op_def(Prim::reduce_sum).new_attrs();
  NameCollector c;
  op_def(Prim::reduce_sum).visit_attrs(attrs.get(), c);
  CHECK(c.names == std::vector<std::string>{"axes", "keepdims"});
  NameCollector c2;
  auto conv = op_def(Prim::conv2d).new_attrs();
  op_def(Prim::conv2d).visit_attrs(conv.get(), c2);
  CHECK(c2.names == std::vector<std::string>{"strides", "padding", "dilations"});
  NameCollector c3;
  auto add = op_def(Prim::add).new_attrs();
  op_def(Prim::add).visit_attrs(add.get(), c3);
  CHECK(c3.names.empty());
}

TEST_CASE("traits are data the passes can read", "[registry]") {
  CHECK(op_def(Prim::add).traits.elementwise);
  CHECK(op_def(Prim::add).traits.commutative);
  CHECK_FALSE(op_def(Prim::sub).traits.commutative);
  CHECK(op_def(Prim::permute).traits.view);
  CHECK(op_def(Prim::random_normal).traits.random);
  CHECK_FALSE(op_def(Prim::equal).traits.differentiable);
  CHECK_FALSE(op_def(Prim::matmul).traits.elementwise);
}

TEST_CASE("vjp gives one gradient per input, none for primitives that are not differentiable", "[registry]") {
  Tensor x({1.0f, 2.0f});
  Tensor y = exp(x);
  Tensor g({1.0f, 0.5f});
  Tensors in{x}, outs{y}, cts{g};
  VjpArgs args{in, outs, cts};
  auto attrs = op_def(Prim::exp).new_attrs();
  Tensors dx = op_def(Prim::exp).vjp(attrs.get(), args);
  REQUIRE(dx.size() == 1);
  CHECK(allclose(dx[0], g * y));

  Tensor b({2.0f, 1.0f});
  Tensor c = less(x, b);
  Tensors cin{x, b}, cout{c}, cct{zeros_like(c)};
  auto none = op_def(Prim::less).vjp(op_def(Prim::less).new_attrs().get(), VjpArgs{cin, cout, cct});
  REQUIRE(none.size() == 2);
  CHECK_FALSE(none[0].defined());
  CHECK_FALSE(none[1].defined());
  CHECK_FALSE(op_def(Prim::less).traits.differentiable);
}

TEST_CASE("apply notifies dispatch observers with op, inputs, outputs and location", "[registry]") {
  struct Recorder : DispatchObserver {
    std::vector<std::string> ops;
    std::vector<int> lines;
    void on_apply(const ApplyEvent& e) override {
      ops.push_back(op_def(static_cast<Prim>(e.op)).name);
      lines.push_back(e.loc.line);
      CHECK(e.outputs.size() == 1);
    }
  } rec;
  add_observer(&rec);
  Tensor a({1.0f, 2.0f});
  int line = __LINE__ + 1;
  Tensor b = exp(a) + a;
  remove_observer(&rec);
  Tensor c = exp(b);
  CHECK(rec.ops == std::vector<std::string>{"exp", "add"});
  CHECK(rec.lines == std::vector<int>{line, line});
}

TEST_CASE("infer errors get the op prefix and the caller's location from apply", "[registry]") {
  try {
    apply(Prim::matmul, make_attrs(NoAttrs{}), {ones({2, 3}), ones({2, 3})}, Loc::at("x.cpp", 7));
    FAIL("no exception");
  } catch (const ShapeError& e) {
    CHECK(std::string(e.what()) == "[matmul] inner dimensions differ: a is (2, 3) float32, b is (2, 3) float32 (x.cpp:7)");
  }
}

TEST_CASE("elementwise primitives: traits and promotion are derived from the functor", "[registry][elementwise]") {
  int n = 0;
  for (int i = 0; i < kNumPrims; ++i) {
    const OpDef& d = op_def(static_cast<Prim>(i));
    INFO(d.name);
    if (!d.elementwise) {
      // The elementwise primitives without a functor read more than values (a condition, a dtype).
      if (d.traits.elementwise) CHECK((std::string(d.name) == "where" || std::string(d.name) == "cast"));
      continue;
    }
    ++n;
    const ElementwiseInfo& e = *d.elementwise;
    CHECK(d.traits.elementwise);
    CHECK((e.arity == 1 || e.arity == 2));
    CHECK(e.promotion == ew::promotion_of(e.domain, e.result));
    CHECK(e.promotion != ew::Promotion::invalid);
    CHECK(d.traits.differentiable == (e.result != ew::Result::boolean));
    CHECK(d.traits.inplace == (e.result != ew::Result::boolean));
    CHECK_FALSE(d.traits.view);
    std::string f = e.functor;
    CHECK(f.size() > 2);
    CHECK(f.substr(f.size() - 2) == "Fn");
  }
  CHECK(n >= 46);
  CHECK(op_def(Prim::hypot).elementwise->promotion == ew::Promotion::float_fn);
  CHECK(op_def(Prim::logaddexp).elementwise->promotion == ew::Promotion::float_fn);
  CHECK(op_def(Prim::hypot).traits.commutative);
  CHECK(op_def(Prim::floor).elementwise->promotion == ew::Promotion::rounding);
  CHECK(op_def(Prim::logical_and).elementwise->promotion == ew::Promotion::logical);
  CHECK(op_def(Prim::less).elementwise->promotion == ew::Promotion::compare);
  CHECK(op_def(Prim::neg).elementwise->promotion == ew::Promotion::numeric);
}

TEST_CASE("float functions promote integer inputs to float32, the new ones as atan2", "[registry][elementwise]") {
  Tensor i({3, 4});
  Tensor j({4, 3});
  CHECK(atan2(i, j).dtype() == DType::float32);
  CHECK(hypot(i, j).dtype() == DType::float32);
  CHECK(logaddexp(i, j).dtype() == DType::float32);
  CHECK(hypot(i, j).to_vector<float>() == std::vector<float>{5.0f, 5.0f});
  CHECK(hypot(cast(i, DType::bool_), 2).dtype() == DType::float32);
  CHECK_THROWS_AS(([&] {
                    StrictDTypeScope strict;
                    return hypot(i, j);
                  }()),
                  DTypeError);
}

TEST_CASE("every elementwise primitive has NumPy oracle cases", "[registry][oracle]") {
  // tests/oracle/gen_expected.py writes ops_expected.json next to this test (ninja builds it with
  // the tests): a primitive added to the list without NumPy cases fails here.
  std::vector<std::string> paths;
  if (const char* env = std::getenv("XFLOW_OPS_ORACLE")) paths.push_back(env);
  for (const char* p : {"ops_expected.json", "tests/ops_expected.json", "build/tests/ops_expected.json"})
    paths.push_back(p);
  nlohmann::json j;
  for (const std::string& p : paths) {
    std::ifstream f(p);
    if (f) {
      j = nlohmann::json::parse(f);
      break;
    }
  }
  INFO("ops_expected.json not found (run from build/tests, or set XFLOW_OPS_ORACLE)");
  REQUIRE(j.contains("cases"));
  std::set<std::string> ops;
  for (const auto& c : j.at("cases")) ops.insert(c.at("op").get<std::string>());
  std::string missing;
  for (int i = 0; i < kNumPrims; ++i) {
    const OpDef& d = op_def(static_cast<Prim>(i));
    if (d.elementwise && !ops.count(d.name)) missing += std::string(d.name) + " ";
  }
  INFO("no NumPy cases: " << missing);
  CHECK(missing.empty());
}

TEST_CASE("docs/dtypes.md lists every elementwise primitive under the rule the code derives", "[registry][docs]") {
  std::ifstream f;
  for (const char* p : {"../../docs/dtypes.md", "../docs/dtypes.md", "docs/dtypes.md"}) {
    f.open(p);
    if (f) break;
    f.clear();
  }
  INFO("docs/dtypes.md not found (run from build/tests)");
  REQUIRE(f.is_open());
  const std::map<std::string, ew::Promotion> rows = {
      {"| float function |", ew::Promotion::float_fn}, {"| numeric |", ew::Promotion::numeric},
      {"| rounding |", ew::Promotion::rounding},       {"| compare |", ew::Promotion::compare},
      {"| logical |", ew::Promotion::logical}};
  std::map<std::string, ew::Promotion> documented;  // op -> the row it is listed in
  std::string line;
  while (std::getline(f, line))
    for (const auto& [start, rule] : rows)
      if (line.rfind(start, 0) == 0)
        for (size_t b = line.find('`'); b != std::string::npos;) {
          size_t e = line.find('`', b + 1);
          if (e == std::string::npos) break;
          documented[line.substr(b + 1, e - b - 1)] = rule;
          b = line.find('`', e + 1);
        }
  for (int i = 0; i < kNumPrims; ++i) {
    const OpDef& d = op_def(static_cast<Prim>(i));
    if (!d.elementwise) continue;
    INFO(d.name);
    REQUIRE(documented.count(d.name) == 1);
    CHECK(documented[d.name] == d.elementwise->promotion);
  }
}

namespace {
// Inputs of `shape` and dtype `d` with values the primitive accepts (nonzero integers: integer
// division and mod by zero are errors of their own), NaN and infinities among the floats.
Tensor fast_input(const Shape& shape, DType d, int salt) {
  int64_t n = numel(shape);
  std::vector<double> v(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) v[static_cast<size_t>(i)] = static_cast<double>((i * 7 + salt * 3) % 11) - 4.5;
  if (d == DType::bool_) {
    for (auto& x : v) x = x > 0 ? 1 : 0;
  } else if (!is_floating(d)) {
    for (auto& x : v) x = std::floor(x) == 0 ? 3 : std::floor(x) + (d == DType::uint8 ? 6 : 0);
  } else if (n > 3) {
    v[1] = std::nan("");
    v[2] = salt % 2 ? std::numeric_limits<double>::infinity() : -std::numeric_limits<double>::infinity();
  }
  return cast(Tensor::from_vector(v, shape), d);
}

bool accepts(ew::Domain dom, DType d) {
  if (dom == ew::Domain::floating) return is_floating(d);
  if (dom == ew::Domain::numeric) return d != DType::bool_;
  return true;
}
}  // namespace

TEST_CASE("the elementwise fast path gives apply1's bits for every primitive, dtype and shape pair", "[registry][elementwise]") {
  const DType dtypes[] = {DType::bool_, DType::uint8, DType::int32, DType::int64, DType::float32, DType::float64};
  // (a's shape, b's shape): equal shapes (a tail, whole batches and a tail, 0-d, empty), and one
  // 0-d operand against the other's shape, including a one-element result.
  const std::vector<std::pair<Shape, Shape>> pairs = {
      {{37}, {37}}, {{2, 3}, {2, 3}}, {{}, {}}, {{0, 3}, {0, 3}}, {{}, {9}}, {{4, 5}, {}}, {{}, {1}}, {{1, 1}, {}}};
  int checked = 0;
  for (int i = 0; i < kNumPrims; ++i) {
    Prim p = static_cast<Prim>(i);
    const ElementwiseInfo* info = op_def(p).elementwise;
    if (!info) continue;
    for (DType d : dtypes) {
      if (!accepts(info->domain, d)) {
        // A dtype the kernel does not take: no fast path (apply1 reports the error).
        Tensor x = fast_input({3}, d, 1);
        CHECK_FALSE(apply_elementwise_fast(p, x, info->arity == 2 ? &x : nullptr, Loc{}).defined());
        continue;
      }
      for (const auto& [sa, sb] : pairs) {
        INFO(op_def(p).name << " " << dtype_name(d) << " " << shape_str(sa) << " " << shape_str(sb));
        Tensor a = fast_input(sa, d, 1), b = fast_input(sb, d, 2);
        Tensor fast, slow;
        if (info->arity == 1) {
          if (sa != sb) continue;
          fast = apply_elementwise_fast(p, a, nullptr, Loc{});
          slow = apply1(p, {a}, Loc{});
        } else {
          fast = apply_elementwise_fast(p, a, &b, Loc{});
          slow = apply1(p, {a, b}, Loc{});
        }
        REQUIRE(fast.defined());
        CHECK(fast.shape() == slow.shape());
        CHECK(bitwise_equal(fast, slow));
        ++checked;
      }
    }
  }
  CHECK(checked > 300);
}

TEST_CASE("the elementwise fast path steps aside for observers, numerics checks, views and broadcasts", "[registry][elementwise]") {
  Tensor a = fast_input({2, 3}, DType::float32, 1), b = fast_input({2, 3}, DType::float32, 2);
  REQUIRE(apply_elementwise_fast(Prim::add, a, &b, Loc{}).defined());
  // An observer must see every op (the tape, tracers): the public op then goes through apply1.
  struct Counter : DispatchObserver {
    int n = 0;
    void on_apply(const ApplyEvent&) override { ++n; }
  } counter;
  add_observer(&counter);
  CHECK_FALSE(apply_elementwise_fast(Prim::add, a, &b, Loc{}).defined());
  Tensor c = a + b;
  remove_observer(&counter);
  CHECK(counter.n == 1);
  CHECK(bitwise_equal(c, apply1(Prim::add, {a, b}, Loc{})));
  {
    debug::CheckNumericsScope on;
    CHECK_FALSE(apply_elementwise_fast(Prim::add, a, &b, Loc{}).defined());
    CHECK_THROWS_AS(a + b, InvalidArgument);  // a holds a NaN: the check runs
  }
  Tensor t = transpose(a);  // a non-contiguous view
  CHECK_FALSE(apply_elementwise_fast(Prim::neg, t, nullptr, Loc{}).defined());
  CHECK(bitwise_equal(-t, neg(t.contiguous())));
  Tensor row = fast_input({3}, DType::float32, 3);
  CHECK_FALSE(apply_elementwise_fast(Prim::mul, a, &row, Loc{}).defined());  // a real broadcast
  Tensor i = fast_input({2, 3}, DType::int32, 1);
  CHECK_FALSE(apply_elementwise_fast(Prim::add, a, &i, Loc{}).defined());  // dtypes differ
  CHECK(a.dtype() == (a + i).dtype());
  CHECK_FALSE(apply_elementwise_fast(Prim::add, Tensor(), &b, Loc{}).defined());
  CHECK_THROWS_AS(Tensor() + b, InvalidArgument);
  // Errors of the public ops are unchanged: bool is not a number, floats stay exact.
  Tensor flags = fast_input({3}, DType::bool_, 1);
  CHECK_THROWS_AS(flags + flags, DTypeError);
  CHECK((exp(i)).dtype() == DType::float32);
  CHECK(bitwise_equal(floor(i), i));
}
