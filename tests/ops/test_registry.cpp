// The primitive table: one definition per primitive, every part present and working.
#include <catch2/catch.hpp>
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
  CHECK(c2.names == std::vector<std::string>{"strides", "padding"});
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
