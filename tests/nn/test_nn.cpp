// xf::nn: every loss and piece against values worked out independently (by hand, or with NumPy in
// float64 where noted), gradients against central finite differences in float64, dropout's
// statistics, the layers' shapes, variables and collections, error paths, and the name scopes a
// trace records.
#include <catch2/catch.hpp>

#include <cmath>
#include <functional>
#include <limits>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "testing.hpp"
#include "xflow/graph.hpp"
#include "xflow/nn.hpp"
#include "xflow/optim.hpp"
#include "xflow/trace.hpp"
#include "xflow/xflow.hpp"

using namespace xf;
using Approx = Catch::Detail::Approx;

namespace {

using Fn = std::function<Tensor(const std::vector<Tensor>&)>;

std::vector<double> values(const Tensor& t) { return t.to_vector<double>(); }

void check_values(const Tensor& t, const std::vector<double>& expected, double eps = 1e-6) {
  std::vector<double> v = values(t);
  REQUIRE(v.size() == expected.size());
  for (size_t i = 0; i < v.size(); ++i) {
    INFO("element " << i);
    CHECK(v[i] == Approx(expected[i]).epsilon(eps).margin(eps));
  }
}

using testing::uniform;

// The numeric derivative of `loss` with respect to every element of a tensor, by central
// differences: `set` installs a perturbed value, `loss` evaluates.
std::vector<double> numeric_grad(const Tensor& at, const std::function<void(const Tensor&)>& set,
                                 const std::function<double()>& loss, double eps) {
  std::vector<double> v = values(at);
  std::vector<double> out(v.size());
  for (size_t j = 0; j < v.size(); ++j) {
    double orig = v[j];
    v[j] = orig + eps;
    set(Tensor::from_vector(v, at.shape()));
    double lp = loss();
    v[j] = orig - eps;
    set(Tensor::from_vector(v, at.shape()));
    double lm = loss();
    v[j] = orig;
    out[j] = (lp - lm) / (2 * eps);
  }
  set(at);
  return out;
}

void compare(const std::string& what, const Tensor& analytic, const std::vector<double>& numeric, double rtol,
             double atol) {
  std::vector<double> a = values(analytic);
  REQUIRE(a.size() == numeric.size());
  int bad = 0;
  std::ostringstream msg;
  for (size_t j = 0; j < a.size(); ++j)
    if (!(std::abs(a[j] - numeric[j]) <= atol + rtol * std::abs(numeric[j])))
      if (bad++ < 5) msg << "  " << what << " element " << j << ": tape " << a[j] << ", finite differences " << numeric[j] << "\n";
  INFO("mismatches (" << bad << "):\n" << msg.str());
  CHECK(bad == 0);
}

// The tape's gradient of sum(f(xs) * w), for fixed random weights w, against central differences.
void check_grad(const Fn& f, const std::vector<Tensor>& xs, double eps = 1e-6, double rtol = 1e-5, double atol = 1e-6) {
  std::vector<Tensor> analytic;
  Tensor w;
  {
    GradientTape tape;
    for (const Tensor& x : xs) tape.watch(x);
    Tensor y = f(xs);
    REQUIRE(y.dtype() == DType::float64);
    w = uniform(y.shape(), 0.5, 1.5);
    analytic = tape.gradient(sum(mul(y, w)), xs);
  }
  for (size_t k = 0; k < xs.size(); ++k) {
    REQUIRE(analytic[k].shape() == xs[k].shape());
    std::vector<Tensor> in = xs;
    auto num = numeric_grad(xs[k], [&](const Tensor& t) { in[k] = t; },
                            [&] { return sum(mul(f(in), w)).item<double>(); }, eps);
    compare("input " + std::to_string(k), analytic[k], num, rtol, atol);
  }
}

// A layer's gradients with respect to its input and its variables (float64), against central
// differences that perturb the input and assign perturbed values to the variables.
void check_layer_grad(const std::function<Tensor(const Tensor&)>& layer, const Tensor& x,
                      const std::vector<Variable>& vars) {
  std::vector<Tensor> analytic;
  Tensor w;
  {
    GradientTape tape;
    tape.watch(x);
    // A read returns the variable's current tensor itself (the same id) until it is assigned, so
    // watching a read watches the reads the layer makes inside its call: this is how
    // Optimizer::minimize differentiates through layers.
    std::vector<Tensor> sources{x};
    for (const Variable& v : vars) {
      sources.push_back(v.value());
      tape.watch(sources.back());
    }
    Tensor y = layer(x);
    w = uniform(y.shape(), 0.5, 1.5);
    analytic = tape.gradient(sum(mul(y, w)), sources, UnconnectedGradients::none);
  }
  Tensor xin = x;
  auto loss = [&] { return sum(mul(layer(xin), w)).item<double>(); };
  compare("input", analytic[0], numeric_grad(x, [&](const Tensor& t) { xin = t; }, loss, 1e-6), 1e-5, 1e-6);
  for (size_t k = 0; k < vars.size(); ++k) {
    const Variable& v = vars[k];
    Tensor start = v.value();
    compare(v.name(), analytic[k + 1], numeric_grad(start, [&](const Tensor& t) { v.assign(t); }, loss, 1e-6), 1e-5,
            1e-6);
  }
}

std::vector<std::string> names(const std::vector<Variable>& vs) {
  std::vector<std::string> n;
  for (const Variable& v : vs) n.push_back(v.name());
  return n;
}

bool starts_with(const std::string& s, const std::string& prefix) { return s.compare(0, prefix.size(), prefix) == 0; }

// Every node of the traced graph is under `prefix` + "/"; returns the ops it saw.
std::multiset<std::string> check_scoped(const Graph& g, const std::string& prefix) {
  std::multiset<std::string> ops;
  REQUIRE(!g.nodes.empty());
  for (const GraphNode& n : g.nodes) {
    INFO("node " << n.op << " in scope '" << n.scope << "'");
    CHECK(starts_with(n.scope, prefix + "/"));
    ops.insert(n.op.name());
  }
  return ops;
}

// The message of the exception `fn` throws (or "" if none).
std::string error_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

// ---- dense ----

TEST_CASE("dense is x @ w + b, batched over leading axes", "[nn][dense]") {
  Tensor x({{1.0f, 2.0f}, {3.0f, 4.0f}});
  Tensor w({{1.0f, 0.0f, -1.0f}, {2.0f, 1.0f, 0.0f}});
  Tensor b({0.5f, -1.0f, 2.0f});
  // [1 2] @ w = [5 2 -1], [3 4] @ w = [11 4 -3]; plus b.
  Tensor y = nn::dense(x, w, b);
  CHECK(y.shape() == Shape{2, 3});
  CHECK(y.dtype() == DType::float32);
  check_values(y, {5.5, 1, 1, 11.5, 3, -1});
  Tensor y3 = nn::dense(reshape(concat({x, x}), {2, 2, 2}), w, b);
  CHECK(y3.shape() == Shape{2, 2, 3});
  check_values(y3, {5.5, 1, 1, 11.5, 3, -1, 5.5, 1, 1, 11.5, 3, -1});
}

TEST_CASE("dense rejects shapes that do not fit", "[nn][dense][errors]") {
  Tensor x = ones({2, 3}), w = ones({3, 4}), b = ones({4});
  CHECK_THROWS_AS(nn::dense(x, ones({3}), b), ShapeError);        // w not 2-D
  CHECK_THROWS_AS(nn::dense(ones({2, 5}), w, b), ShapeError);     // inner dimensions
  CHECK_THROWS_AS(nn::dense(x, w, ones({3})), ShapeError);        // bias size
  CHECK_THROWS_AS(nn::dense(x, w, ones({1, 4})), ShapeError);     // bias rank
  CHECK_THROWS_AS(nn::dense(Tensor(), w, b), InvalidArgument);
  std::string msg = error_of([&] { nn::dense(ones({2, 5}), w, b); });
  CHECK(starts_with(msg, "[dense] "));
  CHECK(msg.find("x is (2, 5) float32, w is (3, 4) float32, b is (4,) float32") != std::string::npos);
  CHECK(msg.find("test_nn.cpp:") != std::string::npos);
}

TEST_CASE("dense gradients match finite differences", "[nn][dense][gradients]") {
  manual_seed(11);
  check_grad([](const std::vector<Tensor>& in) { return nn::dense(in[0], in[1], in[2]); },
             {uniform({4, 3}), uniform({3, 5}), uniform({5})});
  check_grad([](const std::vector<Tensor>& in) { return nn::dense(in[0], in[1], in[2]); },
             {uniform({2, 3, 3}), uniform({3, 2}), uniform({2})});
}

// ---- dropout ----

TEST_CASE("dropout keeps the mean, zeroes about `rate` of the elements, scales the rest", "[nn][dropout]") {
  manual_seed(5);
  const int64_t n = 200000;
  for (double rate : {0.1, 0.3, 0.5, 0.8}) {
    INFO("rate " << rate);
    Tensor x = ones({n});
    Tensor y = nn::dropout(x, rate, true);
    CHECK(y.shape() == x.shape());
    CHECK(y.dtype() == DType::float32);
    std::vector<float> v = y.to_vector<float>();
    const float scale = static_cast<float>(1.0 / (1.0 - rate));
    int64_t zeros_seen = 0, others = 0;
    for (float e : v) {
      if (e == 0.0f) ++zeros_seen;
      else if (e != scale) ++others;
    }
    CHECK(others == 0);
    // The fraction zeroed is binomial: its standard deviation is below 0.0012 here.
    CHECK(static_cast<double>(zeros_seen) / n == Approx(rate).margin(0.006));
    CHECK(mean(y).item<double>() == Approx(1.0).margin(0.02));
  }
  Tensor x64 = uniform({n}, 1, 3);
  CHECK(nn::dropout(x64, 0.4, true).dtype() == DType::float64);
  CHECK(mean(nn::dropout(x64, 0.4, true)).item<double>() == Approx(mean(x64).item<double>()).epsilon(0.01));
}

TEST_CASE("dropout is the identity when not training or at rate 0", "[nn][dropout]") {
  Tensor x = reshape(linspace(-1, 1, 12), {3, 4});
  CHECK(nn::dropout(x, 0.5, false).id() == x.id());
  CHECK(nn::dropout(x, 0.0, true).id() == x.id());
  CHECK(bitwise_equal(nn::dropout(x, 0.99, false), x));
}

TEST_CASE("dropout draws a fresh mask on every call, eager and replayed", "[nn][dropout][trace]") {
  manual_seed(6);
  Tensor x = ones({1000});
  Tensor a = nn::dropout(x, 0.5, true), b = nn::dropout(x, 0.5, true);
  CHECK_FALSE(bitwise_equal(a, b));
  auto step = trace([](const std::vector<Tensor>& in) { return std::vector<Tensor>{nn::dropout(in[0], 0.5, true)}; });
  Tensor r1 = step({x})[0], r2 = step({x})[0], r3 = step({x})[0];
  CHECK(step.stats().traces == 1);
  CHECK(step.stats().replays == 2);
  CHECK_FALSE(bitwise_equal(r1, r2));
  CHECK_FALSE(bitwise_equal(r2, r3));
  for (const Tensor& r : {r1, r2, r3}) CHECK(sum(equal(r, 0.0f)).item<int64_t>() == Approx(500).margin(80));
}

TEST_CASE("dropout's gradient is its mask times the scale", "[nn][dropout][gradients]") {
  // A fixed seed makes the mask the same on every evaluation, so finite differences apply.
  manual_seed(7);
  check_grad([](const std::vector<Tensor>& in) {
    manual_seed(99);
    return nn::dropout(in[0], 0.4, true);
  }, {uniform({5, 6})});
}

TEST_CASE("dropout rejects a rate outside [0, 1) and non-float input", "[nn][dropout][errors]") {
  Tensor x = ones({4});
  for (double rate : {-0.1, 1.0, 1.5, std::numeric_limits<double>::quiet_NaN()}) {
    INFO("rate " << rate);
    CHECK_THROWS_AS(nn::dropout(x, rate, true), InvalidArgument);
    CHECK_THROWS_AS(nn::dropout(x, rate, false), InvalidArgument);
  }
  CHECK_THROWS_AS(nn::dropout(Tensor({1, 2, 3}), 0.5, true), DTypeError);
  CHECK(starts_with(error_of([&] { nn::dropout(x, 1.0, true); }), "[dropout] rate must be in [0, 1)"));
}

// ---- embedding_lookup ----

TEST_CASE("embedding_lookup gathers rows", "[nn][embedding]") {
  Tensor table({{0.0f, 0.5f}, {1.0f, 1.5f}, {2.0f, 2.5f}, {3.0f, 3.5f}});
  Tensor y = nn::embedding_lookup(table, Tensor({{3, 0}, {1, 1}}));
  CHECK(y.shape() == Shape{2, 2, 2});
  check_values(y, {3, 3.5, 0, 0.5, 1, 1.5, 1, 1.5});
  Tensor y64 = nn::embedding_lookup(table, Tensor::from_vector(std::vector<int64_t>{2}, {1}));
  check_values(y64, {2, 2.5});
  CHECK(nn::embedding_lookup(table, Tensor(1)).shape() == Shape{2});  // a 0-d id
}

TEST_CASE("embedding_lookup rejects ids outside [0, vocab) and non-integer ids", "[nn][embedding][errors]") {
  Tensor table = ones({4, 2});
  CHECK_THROWS_AS(nn::embedding_lookup(table, Tensor({0, 4})), OutOfRange);
  CHECK_THROWS_AS(nn::embedding_lookup(table, Tensor({-1, 0})), OutOfRange);  // no counting from the end
  CHECK_THROWS_AS(nn::embedding_lookup(table, Tensor({-5})), OutOfRange);
  // So negative that moving it wraps around: still out of range.
  Tensor lowest = Tensor::from_vector(std::vector<int64_t>{std::numeric_limits<int64_t>::min()}, {1});
  CHECK_THROWS_AS(nn::embedding_lookup(table, lowest), OutOfRange);
  CHECK_THROWS_AS(nn::sparse_softmax_cross_entropy_with_logits(lowest, ones({1, 4})), OutOfRange);
  CHECK_THROWS_AS(nn::embedding_lookup(table, Tensor({0.0f})), DTypeError);
  CHECK_THROWS_AS(nn::embedding_lookup(table, Tensor({true})), DTypeError);
  std::string msg = error_of([&] { nn::embedding_lookup(table, Tensor({1, -1})); });
  CHECK(starts_with(msg, "[embedding_lookup] id -1 is outside [0, 4)"));
  CHECK(msg.find("test_nn.cpp:") != std::string::npos);
}

TEST_CASE("embedding_lookup's gradient adds up repeated ids", "[nn][embedding][gradients]") {
  manual_seed(12);
  Tensor ids({{1, 3, 1}, {0, 1, 3}});
  check_grad([ids](const std::vector<Tensor>& in) { return nn::embedding_lookup(in[0], ids); }, {uniform({5, 3})});
  GradientTape tape;
  Tensor table = uniform({4, 2});
  tape.watch(table);
  Tensor g = tape.gradient(nn::embedding_lookup(table, Tensor({2, 0, 2, 2})), {table})[0];
  check_values(g, {1, 1, 0, 0, 3, 3, 0, 0});
}

// ---- softmax cross-entropy ----

// Expected values: loss = logsumexp(logits) - sum(labels * logits) for labels summing to 1.
//   row 0: log(e + e^2 + e^3) - 3 = log(1 + e^-1 + e^-2)
//   row 1: log(3)
//   row 2: NumPy float64, -(labels * log_softmax(logits)).sum(-1)
TEST_CASE("softmax_cross_entropy_with_logits per example", "[nn][loss]") {
  Tensor logits({{1.0, 2.0, 3.0}, {1.0, 1.0, 1.0}, {-2.0, 0.5, 4.0}});
  Tensor labels({{0.0, 0.0, 1.0}, {0.5, 0.5, 0.0}, {0.2, 0.3, 0.5}});
  Tensor loss = nn::softmax_cross_entropy_with_logits(labels, logits);
  CHECK(loss.shape() == Shape{3});
  CHECK(loss.dtype() == DType::float64);
  check_values(loss, {std::log(1 + std::exp(-1.0) + std::exp(-2.0)), std::log(3.0), 2.282153622683158}, 1e-12);
  Tensor l32 = nn::softmax_cross_entropy_with_logits(cast(labels, DType::float32), cast(logits, DType::float32));
  CHECK(l32.dtype() == DType::float32);
  check_values(l32, values(loss), 1e-6);
  // Leading axes are batch axes.
  Tensor l3 = nn::softmax_cross_entropy_with_logits(reshape(concat({labels, labels}), {2, 3, 3}),
                                                    reshape(concat({logits, logits}), {2, 3, 3}));
  CHECK(l3.shape() == Shape{2, 3});
}

TEST_CASE("softmax cross-entropy is stable for large logits", "[nn][loss]") {
  Tensor logits({{1000.0f, 0.0f}, {1000.0f, 0.0f}, {-1000.0f, 1000.0f}});
  Tensor labels({{0.0f, 1.0f}, {1.0f, 0.0f}, {0.5f, 0.5f}});
  check_values(nn::softmax_cross_entropy_with_logits(labels, logits), {1000, 0, 1000}, 1e-6);
  check_values(nn::sparse_softmax_cross_entropy_with_logits(Tensor({1, 0, 0}), logits), {1000, 0, 2000}, 1e-6);
}

TEST_CASE("softmax cross-entropy gradients match finite differences, in labels and logits", "[nn][loss][gradients]") {
  manual_seed(13);
  Tensor labels = softmax(uniform({4, 5}, -2, 2));
  check_grad([](const std::vector<Tensor>& in) { return nn::softmax_cross_entropy_with_logits(in[0], in[1]); },
             {labels, uniform({4, 5}, -3, 3)});
  // The gradient with respect to the logits is softmax(logits) - labels.
  Tensor logits = uniform({3, 4}, -3, 3);
  GradientTape tape;
  tape.watch(logits);
  Tensor p = softmax(uniform({3, 4}));
  Tensor g = tape.gradient(nn::softmax_cross_entropy_with_logits(p, logits), {logits})[0];
  CHECK(allclose(g, softmax(logits) - p, 1e-12, 1e-12));
}

TEST_CASE("softmax_cross_entropy_with_logits error paths", "[nn][loss][errors]") {
  Tensor logits = zeros({2, 3});
  CHECK_THROWS_AS(nn::softmax_cross_entropy_with_logits(zeros({2, 4}), logits), ShapeError);
  CHECK_THROWS_AS(nn::softmax_cross_entropy_with_logits(zeros({3}), logits), ShapeError);  // no broadcasting
  CHECK_THROWS_AS(nn::softmax_cross_entropy_with_logits(zeros({}), zeros({})), ShapeError);
  CHECK_THROWS_AS(nn::softmax_cross_entropy_with_logits(zeros({2, 3}, DType::int32), logits), DTypeError);
  CHECK_THROWS_AS(nn::softmax_cross_entropy_with_logits(zeros({2, 3}), zeros({2, 3}, DType::int32)), DTypeError);
  CHECK_THROWS_AS(nn::softmax_cross_entropy_with_logits(Tensor(), logits), InvalidArgument);
  std::string msg = error_of([&] { nn::softmax_cross_entropy_with_logits(zeros({2, 4}), logits); });
  CHECK(starts_with(msg, "[softmax_cross_entropy_with_logits] "));
  CHECK(msg.find("labels is (2, 4) float32, logits is (2, 3) float32") != std::string::npos);
  CHECK(error_of([&] { nn::softmax_cross_entropy_with_logits(zeros({2, 3}, DType::int32), logits); })
            .find("sparse_softmax_cross_entropy_with_logits") != std::string::npos);
}

// ---- sparse softmax cross-entropy ----

// Expected: -log_softmax(logits)[i, label[i]]; rows 0 and 1 as above, row 2 label 1:
// logsumexp(-2, 0.5, 4) - 0.5 (NumPy float64).
TEST_CASE("sparse_softmax_cross_entropy_with_logits picks each example's class", "[nn][loss]") {
  Tensor logits({{1.0, 2.0, 3.0}, {1.0, 1.0, 1.0}, {-2.0, 0.5, 4.0}});
  std::vector<double> expected{std::log(1 + std::exp(-1.0) + std::exp(-2.0)), std::log(3.0), 3.532153622683158};
  Tensor l32 = nn::sparse_softmax_cross_entropy_with_logits(Tensor({2, 0, 1}), logits);
  CHECK(l32.shape() == Shape{3});
  CHECK(l32.dtype() == DType::float64);
  check_values(l32, expected, 1e-12);
  Tensor labels64 = Tensor::from_vector(std::vector<int64_t>{2, 0, 1}, {3});
  check_values(nn::sparse_softmax_cross_entropy_with_logits(labels64, logits), expected, 1e-12);
  // It equals the dense form with one-hot labels.
  Tensor dense = nn::softmax_cross_entropy_with_logits(one_hot(Tensor({2, 0, 1}), 3, DType::float64), logits);
  CHECK(allclose(l32, dense, 1e-15, 0));
  // Batch axes: labels (2, 3), logits (2, 3, 3).
  Tensor l2 = nn::sparse_softmax_cross_entropy_with_logits(Tensor({{2, 0, 1}, {0, 0, 2}}),
                                                            reshape(concat({logits, logits}), {2, 3, 3}));
  CHECK(l2.shape() == Shape{2, 3});
  check_values(slice(l2, {Slice(0, 1)}), expected, 1e-12);
}

TEST_CASE("sparse softmax cross-entropy gradient matches finite differences", "[nn][loss][gradients]") {
  manual_seed(14);
  Tensor labels({3, 0, 4, 4});
  check_grad([labels](const std::vector<Tensor>& in) { return nn::sparse_softmax_cross_entropy_with_logits(labels, in[0]); },
             {uniform({4, 5}, -3, 3)});
  // softmax(logits) - one_hot(labels)
  Tensor logits = uniform({4, 5}, -3, 3);
  GradientTape tape;
  tape.watch(logits);
  Tensor g = tape.gradient(nn::sparse_softmax_cross_entropy_with_logits(labels, logits), {logits})[0];
  CHECK(allclose(g, softmax(logits) - one_hot(labels, 5, DType::float64), 1e-12, 1e-12));
}

TEST_CASE("sparse softmax cross-entropy error paths", "[nn][loss][errors]") {
  Tensor logits = zeros({3, 4});
  CHECK_THROWS_AS(nn::sparse_softmax_cross_entropy_with_logits(Tensor({0, 4, 1}), logits), OutOfRange);
  CHECK_THROWS_AS(nn::sparse_softmax_cross_entropy_with_logits(Tensor({0, -1, 1}), logits), OutOfRange);
  CHECK_THROWS_AS(nn::sparse_softmax_cross_entropy_with_logits(Tensor({0, -4, 1}), logits), OutOfRange);
  CHECK_THROWS_AS(nn::sparse_softmax_cross_entropy_with_logits(Tensor({0, 1}), logits), ShapeError);
  CHECK_THROWS_AS(nn::sparse_softmax_cross_entropy_with_logits(Tensor({{0}, {1}, {2}}), logits), ShapeError);
  CHECK_THROWS_AS(nn::sparse_softmax_cross_entropy_with_logits(Tensor({0.0f, 1.0f, 2.0f}), logits), DTypeError);
  CHECK_THROWS_AS(nn::sparse_softmax_cross_entropy_with_logits(cast(Tensor({0, 1, 2}), DType::uint8), logits), DTypeError);
  CHECK_THROWS_AS(nn::sparse_softmax_cross_entropy_with_logits(Tensor({0, 1, 2}), zeros({3, 4}, DType::int32)), DTypeError);
  CHECK_THROWS_AS(nn::sparse_softmax_cross_entropy_with_logits(Tensor(0), zeros({})), ShapeError);
  std::string msg = error_of([&] { nn::sparse_softmax_cross_entropy_with_logits(Tensor({0, 7, 1}), logits); });
  CHECK(starts_with(msg, "[sparse_softmax_cross_entropy_with_logits] label 7 is outside [0, 4)"));
  CHECK(msg.find("labels is (3,) int32, logits is (3, 4) float32") != std::string::npos);
  CHECK(msg.find("test_nn.cpp:") != std::string::npos);
}

TEST_CASE("an out-of-range label raises on replay too, without a guard", "[nn][loss][trace]") {
  auto fn = [](const std::vector<Tensor>& in) {
    return std::vector<Tensor>{mean(nn::sparse_softmax_cross_entropy_with_logits(in[0], in[1]))};
  };
  auto step = trace(fn);
  Tensor logits = reshape(linspace(-1, 1, 12), {3, 4});
  Tensor good = step({Tensor({0, 3, 1}), logits})[0];
  CHECK(step.graph_for({Tensor({0, 3, 1}), logits})->guards.empty());
  CHECK(bitwise_equal(step({Tensor({0, 3, 1}), logits})[0], good));
  CHECK(step.stats().replays == 1);
  CHECK_THROWS_AS(step({Tensor({0, 4, 1}), logits}), OutOfRange);
  CHECK_THROWS_AS(step({Tensor({-1, 0, 1}), logits}), OutOfRange);
  // The replay's message comes from the primitive that checks (docs/nn.md), at the caller's line.
  std::string msg = error_of([&] { step({Tensor({0, 4, 1}), logits}); });
  INFO(msg);
  CHECK(msg.find("out of range") != std::string::npos);
  CHECK(msg.find("test_nn.cpp:") != std::string::npos);
}

// ---- sigmoid cross-entropy ----

// Expected (NumPy float64): z * -log(sigmoid(x)) + (1 - z) * -log(1 - sigmoid(x)), which the
// naive formula gives as NaN or -0 at x = +-100; the stable one as 3.72e-44.
TEST_CASE("sigmoid_cross_entropy_with_logits elementwise, stable", "[nn][loss]") {
  Tensor x({-2.0, 0.0, 3.0, 100.0, -100.0, 0.7});
  Tensor z({0.0, 1.0, 0.5, 1.0, 0.0, 0.25});
  Tensor loss = nn::sigmoid_cross_entropy_with_logits(z, x);
  CHECK(loss.shape() == Shape{6});
  check_values(loss, {0.12692801104297252, std::log(2.0), 1.5485873515737436, 3.720075976020836e-44,
                      3.720075976020836e-44, 0.9281860488854579}, 1e-12);
  CHECK(values(loss)[3] > 0);
  Tensor big = nn::sigmoid_cross_entropy_with_logits(Tensor({0.0f, 1.0f, 1.0f}), Tensor({1000.0f, -1000.0f, 1000.0f}));
  check_values(big, {1000, 1000, 0});
  // Integer labels are promoted.
  check_values(nn::sigmoid_cross_entropy_with_logits(Tensor({1, 0}), Tensor({0.0f, 0.0f})), {std::log(2.0), std::log(2.0)});
}

TEST_CASE("sigmoid cross-entropy gradients match finite differences; at 0 it is sigmoid(0) - z", "[nn][loss][gradients]") {
  manual_seed(15);
  // Away from 0, where the formula switches branch.
  Tensor x = uniform({3, 4}, 0.1, 4) * sign(uniform({3, 4}));
  check_grad([](const std::vector<Tensor>& in) { return nn::sigmoid_cross_entropy_with_logits(in[0], in[1]); },
             {uniform({3, 4}, 0, 1), x});
  Tensor x0({0.0, 0.0, 0.0});
  Tensor z({0.0, 0.3, 1.0});
  GradientTape tape;
  tape.watch(x0);
  Tensor g = tape.gradient(nn::sigmoid_cross_entropy_with_logits(z, x0), {x0})[0];
  check_values(g, {0.5, 0.2, -0.5}, 1e-15);
}

TEST_CASE("sigmoid cross-entropy error paths", "[nn][loss][errors]") {
  CHECK_THROWS_AS(nn::sigmoid_cross_entropy_with_logits(zeros({3}), zeros({3, 1})), ShapeError);
  CHECK_THROWS_AS(nn::sigmoid_cross_entropy_with_logits(zeros({3}), zeros({3}, DType::int32)), DTypeError);
  CHECK_THROWS_AS(nn::sigmoid_cross_entropy_with_logits(zeros({3}, DType::bool_), zeros({3})), DTypeError);
  CHECK(starts_with(error_of([] { nn::sigmoid_cross_entropy_with_logits(zeros({3}), zeros({2})); }),
                    "[sigmoid_cross_entropy_with_logits] "));
}

// ---- mean squared error, l2 ----

TEST_CASE("mean_squared_error is the mean over all elements", "[nn][loss]") {
  // differences 0.5, 0, -1, 2 -> squares 0.25, 0, 1, 4 -> mean 5.25 / 4
  Tensor mse = nn::mean_squared_error(Tensor({{1.0f, 2.0f}, {3.0f, 4.0f}}), Tensor({{1.5f, 2.0f}, {2.0f, 6.0f}}));
  CHECK(mse.shape() == Shape{});
  CHECK(mse.dtype() == DType::float32);
  CHECK(mse.item<double>() == 1.3125);
  CHECK(nn::mean_squared_error(Tensor({1, 2}), Tensor({1.0f, 4.0f})).item<double>() == 2.0);  // int labels promote
}

TEST_CASE("mean_squared_error gradients and errors", "[nn][loss][gradients][errors]") {
  manual_seed(16);
  check_grad([](const std::vector<Tensor>& in) { return nn::mean_squared_error(in[0], in[1]); },
             {uniform({3, 4}), uniform({3, 4})});
  CHECK_THROWS_AS(nn::mean_squared_error(zeros({3}), zeros({3, 1})), ShapeError);
  CHECK_THROWS_AS(nn::mean_squared_error(zeros({3}), zeros({3}, DType::int32)), DTypeError);
  CHECK_THROWS_AS(nn::mean_squared_error(zeros({3}, DType::bool_), zeros({3})), DTypeError);
}

TEST_CASE("l2_loss is sum(t^2) / 2; l2_regularization scales the sum", "[nn][loss]") {
  Tensor a({1.0f, 2.0f, 3.0f});  // 14 / 2
  Tensor b({{1.0f, -1.0f}, {0.0f, 2.0f}});  // 6 / 2
  CHECK(nn::l2_loss(a).item<double>() == 7.0);
  CHECK(nn::l2_loss(a).shape() == Shape{});
  CHECK(nn::l2_regularization({a, b}, 0.5).item<double>() == 5.0);
  CHECK(nn::l2_regularization({a, b}, 0.0).item<double>() == 0.0);
  Tensor none = nn::l2_regularization({}, 0.1);
  CHECK(none.shape() == Shape{});
  CHECK(none.item<double>() == 0.0);
  CHECK(nn::l2_regularization({cast(a, DType::float64)}, 0.1).item<double>() == Approx(0.7).epsilon(1e-15));
}

TEST_CASE("l2 gradients match finite differences; errors", "[nn][loss][gradients][errors]") {
  manual_seed(17);
  check_grad([](const std::vector<Tensor>& in) { return nn::l2_loss(in[0]); }, {uniform({3, 4})});
  check_grad([](const std::vector<Tensor>& in) { return nn::l2_regularization({in[0], in[1]}, 0.3); },
             {uniform({3, 4}), uniform({5})});
  Tensor w = uniform({2, 3});
  GradientTape tape;
  tape.watch(w);
  CHECK(allclose(tape.gradient(nn::l2_regularization({w}, 0.25), {w})[0], w * 0.25, 1e-15, 0));
  CHECK_THROWS_AS(nn::l2_loss(Tensor({1, 2})), DTypeError);
  CHECK_THROWS_AS(nn::l2_regularization({Tensor({1, 2})}, 0.1), DTypeError);
  for (double lambda : {-0.1, std::numeric_limits<double>::quiet_NaN(), std::numeric_limits<double>::infinity()}) {
    INFO("lambda " << lambda);
    CHECK_THROWS_AS(nn::l2_regularization({ones({2})}, lambda), InvalidArgument);
  }
}

// ---- accuracy ----

TEST_CASE("accuracy is the fraction of argmax hits", "[nn][metric]") {
  Tensor logits({{0.1f, 0.9f}, {0.8f, 0.2f}, {0.3f, 0.7f}, {0.6f, 0.4f}});
  // argmax: 1, 0, 1, 0
  Tensor acc = nn::accuracy(Tensor({1, 0, 0, 0}), logits);
  CHECK(acc.shape() == Shape{});
  CHECK(acc.dtype() == DType::float32);
  CHECK(acc.item<double>() == 0.75);
  CHECK(nn::accuracy(Tensor::from_vector(std::vector<int64_t>{1, 0, 1, 0}, {4}), logits).item<double>() == 1.0);
  CHECK(nn::accuracy(Tensor({0, 1, 0, 1}), logits).item<double>() == 0.0);
  // Ties go to the first maximum, as argmax.
  CHECK(nn::accuracy(Tensor({0}), Tensor({{0.5, 0.5}})).item<double>() == 1.0);
  // Batch axes.
  CHECK(nn::accuracy(Tensor({{1, 0}, {0, 0}}), reshape(logits, {2, 2, 2})).item<double>() == 0.75);
}

TEST_CASE("accuracy error paths", "[nn][metric][errors]") {
  Tensor logits = zeros({4, 3});
  CHECK_THROWS_AS(nn::accuracy(zeros({4}), logits), DTypeError);
  CHECK_THROWS_AS(nn::accuracy(Tensor({0, 1, 2}), logits), ShapeError);
  CHECK_THROWS_AS(nn::accuracy(zeros({4, 3}, DType::int32), logits), ShapeError);
}

// ---- layers ----

TEST_CASE("Dense creates named, trainable variables and computes act(x @ kernel + bias)", "[nn][layers]") {
  reset_variables();
  manual_seed(21);
  nn::Dense fc(3, 4, nn::Activation::relu, "fc");
  CHECK(fc.name() == "fc");
  CHECK(fc.kernel.name() == "fc/kernel");
  CHECK(fc.bias.name() == "fc/bias");
  CHECK(fc.kernel.shape() == Shape{3, 4});
  CHECK(fc.bias.shape() == Shape{4});
  CHECK(fc.kernel.dtype() == DType::float32);
  CHECK(fc.bias.value().to_vector<float>() == std::vector<float>{0, 0, 0, 0});
  CHECK(names(fc.variables()) == std::vector<std::string>{"fc/kernel", "fc/bias"});
  CHECK(names(trainable_variables()) == std::vector<std::string>{"fc/kernel", "fc/bias"});
  CHECK(names(global_variables()) == std::vector<std::string>{"fc/kernel", "fc/bias"});

  fc.kernel.assign(Tensor({{1.0f, 0.0f, -1.0f, 2.0f}, {0.0f, 1.0f, 1.0f, -2.0f}, {1.0f, 1.0f, 0.0f, 0.0f}}));
  fc.bias.assign(Tensor({0.5f, -10.0f, 0.0f, 0.0f}));
  // [1 2 3] @ kernel = [4, 5, 1, -2]; + bias = [4.5, -5, 1, -2]; relu.
  Tensor y = fc(Tensor({{1.0f, 2.0f, 3.0f}}));
  CHECK(y.shape() == Shape{1, 4});
  check_values(y, {4.5, 0, 1, 0});
  CHECK(fc(zeros({2, 5, 3})).shape() == Shape{2, 5, 4});
  CHECK(fc(zeros({3})).shape() == Shape{4});

  nn::Dense plain(3, 2);
  CHECK(plain.name() == "dense");
  CHECK(plain.kernel.name() == "dense/kernel");
  nn::Dense again(3, 2);  // a taken name: Variable's rule makes it unique
  CHECK(again.kernel.name() == "dense/kernel_1");
  CHECK(again.bias.name() == "dense/bias_1");
  CHECK(names(trainable_variables()) ==
        std::vector<std::string>{"fc/kernel", "fc/bias", "dense/kernel", "dense/bias", "dense/kernel_1", "dense/bias_1"});
  // Copies share the variables.
  nn::Dense copy = fc;
  CHECK(copy.kernel.id() == fc.kernel.id());
}

TEST_CASE("Dense activations and initializers", "[nn][layers]") {
  reset_variables();
  manual_seed(22);
  Tensor x = reshape(linspace(-2, 2, 6), {2, 3});
  for (auto [act, fn] : std::vector<std::pair<nn::Activation, std::function<Tensor(const Tensor&)>>>{
           {nn::Activation::none, [](const Tensor& t) { return t; }},
           {nn::Activation::relu, [](const Tensor& t) { return relu(t); }},
           {nn::Activation::tanh, [](const Tensor& t) { return tanh(t); }},
           {nn::Activation::sigmoid, [](const Tensor& t) { return sigmoid(t); }}}) {
    nn::Dense d(3, 5, act, "act");
    d.bias.assign(cast(uniform({5}), DType::float32));
    CHECK(bitwise_equal(d(x), fn(nn::dense(x, d.kernel.value(), d.bias.value()))));
  }
  // he_normal for relu: stddev sqrt(2 / fan_in); glorot_uniform otherwise: |w| <= sqrt(6 / (in + out)).
  nn::Dense he(400, 300, nn::Activation::relu, "he");
  CHECK(stddev(he.kernel.value()).item<double>() == Approx(std::sqrt(2.0 / 400)).epsilon(0.05));
  nn::Dense gl(400, 300, nn::Activation::tanh, "glorot");
  double limit = std::sqrt(6.0 / 700);
  CHECK(max(abs(gl.kernel.value())).item<double>() <= limit);
  CHECK(stddev(gl.kernel.value()).item<double>() == Approx(limit / std::sqrt(3.0)).epsilon(0.02));
}

TEST_CASE("Dense layer gradients match finite differences (input, kernel, bias)", "[nn][layers][gradients]") {
  reset_variables();
  manual_seed(23);
  for (auto act : {nn::Activation::none, nn::Activation::tanh, nn::Activation::sigmoid, nn::Activation::relu}) {
    nn::Dense d(3, 4, act, "g");
    // float64 variables so that finite differences are accurate.
    d.kernel = Variable(uniform({3, 4}), "g64/kernel");
    d.bias = Variable(uniform({4}, 0.1, 0.5), "g64/bias");
    check_layer_grad([&d](const Tensor& x) { return d(x); }, uniform({5, 3}), d.variables());
  }
}

TEST_CASE("Dense error paths", "[nn][layers][errors]") {
  reset_variables();
  CHECK_THROWS_AS(nn::Dense(0, 3), InvalidArgument);
  CHECK_THROWS_AS(nn::Dense(3, -1), InvalidArgument);
  CHECK_THROWS_AS(nn::Dense(3, 2, nn::Activation::none, ""), InvalidArgument);
  nn::Dense d(3, 2, nn::Activation::none, "fc");
  CHECK_THROWS_AS(d(zeros({2, 4})), ShapeError);
  CHECK_THROWS_AS(d(zeros({})), ShapeError);
  CHECK_THROWS_AS(d(Tensor()), InvalidArgument);
  std::string msg = error_of([&] { d(zeros({2, 4})); });
  CHECK(starts_with(msg, "[Dense] layer 'fc' takes (..., 3): x is (2, 4) float32"));
  CHECK(msg.find("test_nn.cpp:") != std::string::npos);
}

TEST_CASE("Conv2D creates its variables and computes act(conv2d(x, kernel) + bias)", "[nn][layers]") {
  reset_variables();
  manual_seed(24);
  nn::Conv2D conv(3, 8, {3, 3}, {1, 1}, Padding::same, nn::Activation::relu, "conv1");
  CHECK(conv.kernel.name() == "conv1/kernel");
  CHECK(conv.bias.name() == "conv1/bias");
  CHECK(conv.kernel.shape() == Shape{3, 3, 3, 8});
  CHECK(conv.bias.shape() == Shape{8});
  CHECK(names(trainable_variables()) == std::vector<std::string>{"conv1/kernel", "conv1/bias"});
  CHECK(names(conv.variables()) == std::vector<std::string>{"conv1/kernel", "conv1/bias"});
  CHECK(conv(zeros({2, 5, 5, 3})).shape() == Shape{2, 5, 5, 8});
  nn::Conv2D strided(3, 4, {3, 3}, {2, 2}, Padding::valid, nn::Activation::none, "conv2");
  CHECK(strided(zeros({2, 7, 7, 3})).shape() == Shape{2, 3, 3, 4});
  nn::Conv2D rect(1, 2, {1, 3});
  CHECK(rect.name() == "conv2d");
  CHECK(rect.kernel.shape() == Shape{1, 3, 1, 2});
  CHECK(rect(zeros({1, 4, 4, 1})).shape() == Shape{1, 4, 4, 2});  // SAME by default

  // By hand: a 3x3 image 1..9, a 2x2 kernel of ones, bias 0.5. VALID: the four 2x2 window sums
  // 12, 16, 24, 28. SAME (TensorFlow pads the bottom and right by one): 3x3 outputs.
  Tensor img = reshape(arange(1, 10, 1, DType::float32), {1, 3, 3, 1});
  nn::Conv2D valid(1, 1, {2, 2}, {1, 1}, Padding::valid, nn::Activation::none, "hand_valid");
  valid.kernel.assign(ones({2, 2, 1, 1}));
  valid.bias.assign(Tensor({0.5f}));
  check_values(valid(img), {12.5, 16.5, 24.5, 28.5});
  nn::Conv2D same(1, 1, {2, 2}, {1, 1}, Padding::same, nn::Activation::none, "hand_same");
  same.kernel.assign(ones({2, 2, 1, 1}));
  check_values(same(img), {12, 16, 9, 24, 28, 15, 15, 17, 9});
  // Activation and initializer: relu output never negative; he_normal's scale for relu.
  Tensor y = conv(random_normal({2, 5, 5, 3}));
  CHECK(min(y).item<double>() >= 0);
  nn::Conv2D big(64, 64, {3, 3}, {1, 1}, Padding::same, nn::Activation::relu, "big");
  CHECK(stddev(big.kernel.value()).item<double>() == Approx(std::sqrt(2.0 / (9 * 64))).epsilon(0.05));
  nn::Conv2D big_gl(64, 64, {3, 3}, {1, 1}, Padding::same, nn::Activation::none, "big_gl");
  CHECK(max(abs(big_gl.kernel.value())).item<double>() <= std::sqrt(6.0 / (2 * 9 * 64)));
  // Dilations: a 2x2 kernel of ones with taps 2 apart sums the corners of the 3x3 image.
  nn::Conv2D dil(1, 1, {2, 2}, {1, 1}, Padding::valid, nn::Activation::none, "hand_dilated", {2, 2});
  CHECK(dil.dilations() == std::pair<int64_t, int64_t>{2, 2});
  dil.kernel.assign(ones({2, 2, 1, 1}));
  check_values(dil(img), {1 + 3 + 7 + 9});
  CHECK(nn::Conv2D(1, 1, {2, 2}, {1, 1}, Padding::same, nn::Activation::none, "dil_same", {2, 3})(img).shape() ==
        Shape{1, 3, 3, 1});
  CHECK_THROWS_AS(nn::Conv2D(1, 1, {2, 2}, {1, 1}, Padding::same, nn::Activation::none, "bad_dil", {0, 1}),
                  InvalidArgument);
}

TEST_CASE("Conv2D layer gradients match finite differences (input, kernel, bias)", "[nn][layers][gradients]") {
  reset_variables();
  manual_seed(25);
  struct Case {
    std::pair<int64_t, int64_t> k, s;
    Padding p;
    nn::Activation act;
    std::pair<int64_t, int64_t> d{1, 1};
  };
  for (const Case& c : {Case{{3, 3}, {1, 1}, Padding::same, nn::Activation::tanh},
                        Case{{2, 3}, {2, 1}, Padding::valid, nn::Activation::none},
                        Case{{3, 2}, {2, 2}, Padding::same, nn::Activation::sigmoid},
                        Case{{2, 2}, {1, 1}, Padding::same, nn::Activation::tanh, {2, 2}},
                        Case{{2, 2}, {1, 2}, Padding::valid, nn::Activation::none, {2, 1}}}) {
    nn::Conv2D conv(2, 3, c.k, c.s, c.p, c.act, "cg", c.d);
    conv.kernel = Variable(uniform({c.k.first, c.k.second, 2, 3}), "cg64/kernel");
    conv.bias = Variable(uniform({3}), "cg64/bias");
    check_layer_grad([&conv](const Tensor& x) { return conv(x); }, uniform({2, 5, 4, 2}), conv.variables());
  }
}

TEST_CASE("Conv2D error paths", "[nn][layers][errors]") {
  reset_variables();
  CHECK_THROWS_AS(nn::Conv2D(0, 3, {3, 3}), InvalidArgument);
  CHECK_THROWS_AS(nn::Conv2D(3, 3, {0, 3}), InvalidArgument);
  CHECK_THROWS_AS(nn::Conv2D(3, 3, {3, 3}, {1, 0}), InvalidArgument);
  nn::Conv2D conv(3, 4, {3, 3}, {1, 1}, Padding::same, nn::Activation::none, "c");
  CHECK_THROWS_AS(conv(zeros({1, 5, 5, 2})), ShapeError);
  CHECK_THROWS_AS(conv(zeros({5, 5, 3})), ShapeError);
  CHECK(starts_with(error_of([&] { conv(zeros({5, 5, 3})); }), "[Conv2D] layer 'c' takes NHWC input with 3 channels"));
}

TEST_CASE("Embedding owns a (vocab, dim) table and looks ids up", "[nn][layers]") {
  reset_variables();
  manual_seed(26);
  nn::Embedding emb(10, 4, "emb");
  CHECK(emb.table.name() == "emb/embeddings");
  CHECK(emb.table.shape() == Shape{10, 4});
  CHECK(names(emb.variables()) == std::vector<std::string>{"emb/embeddings"});
  CHECK(names(trainable_variables()) == std::vector<std::string>{"emb/embeddings"});
  CHECK(max(abs(emb.table.value())).item<double>() <= std::sqrt(6.0 / 14));
  Tensor ids({{1, 9, 1}, {0, 2, 3}});
  Tensor y = emb(ids);
  CHECK(y.shape() == Shape{2, 3, 4});
  std::vector<float> t = emb.table.value().to_vector<float>();
  std::vector<float> v = y.to_vector<float>();
  std::vector<int> flat{1, 9, 1, 0, 2, 3};
  for (size_t i = 0; i < flat.size(); ++i)
    for (size_t j = 0; j < 4; ++j) CHECK(v[i * 4 + j] == t[flat[i] * 4 + j]);
  CHECK_THROWS_AS(emb(Tensor({10})), OutOfRange);
  CHECK_THROWS_AS(emb(Tensor({-1})), OutOfRange);
  CHECK_THROWS_AS(emb(Tensor({1.0f})), DTypeError);
  CHECK_THROWS_AS(nn::Embedding(0, 4), InvalidArgument);
  CHECK(nn::Embedding(3, 2).name() == "embedding");
}

TEST_CASE("Embedding gradient with respect to its table", "[nn][layers][gradients]") {
  reset_variables();
  manual_seed(27);
  nn::Embedding emb(6, 3, "eg");
  emb.table = Variable(uniform({6, 3}), "eg64/embeddings");
  Tensor ids({{1, 3, 1}, {5, 0, 1}});
  GradientTape tape;
  Tensor table = emb.table.value();
  tape.watch(table);
  Tensor g = tape.gradient(emb(ids), {table}, UnconnectedGradients::none)[0];
  // Row r collects one per occurrence of r in ids.
  check_values(g, {1, 1, 1, 3, 3, 3, 0, 0, 0, 1, 1, 1, 0, 0, 0, 1, 1, 1});
}

// ---- name scopes in traces ----

TEST_CASE("traced functional pieces record their ops under their name scope", "[nn][trace][scope]") {
  Tensor x = reshape(linspace(-1, 1, 6), {2, 3});
  Tensor w = reshape(linspace(-1, 1, 12), {3, 4});
  Tensor b = linspace(0, 1, 4);
  Tensor logits = reshape(linspace(-2, 2, 8), {2, 4});
  Tensor probs = softmax(logits);
  Tensor ids({1, 3});

  auto ops = check_scoped(trace_graph([](const std::vector<Tensor>& in) {
    return std::vector<Tensor>{nn::dense(in[0], in[1], in[2])};
  }, {x, w, b}), "dense");
  CHECK(ops.count("matmul") == 1);
  CHECK(ops.count("add") == 1);

  ops = check_scoped(trace_graph([](const std::vector<Tensor>& in) {
    return std::vector<Tensor>{nn::dropout(in[0], 0.5, true)};
  }, {x}), "dropout");
  CHECK(ops.count("random_uniform") == 1);

  check_scoped(trace_graph([](const std::vector<Tensor>& in) {
    return std::vector<Tensor>{nn::embedding_lookup(in[0], in[1])};
  }, {w, Tensor({2, 0})}), "embedding_lookup");

  check_scoped(trace_graph([](const std::vector<Tensor>& in) {
    return std::vector<Tensor>{nn::softmax_cross_entropy_with_logits(in[0], in[1])};
  }, {probs, logits}), "softmax_cross_entropy_with_logits");

  check_scoped(trace_graph([](const std::vector<Tensor>& in) {
    return std::vector<Tensor>{nn::sparse_softmax_cross_entropy_with_logits(in[0], in[1])};
  }, {ids, logits}), "sparse_softmax_cross_entropy_with_logits");

  check_scoped(trace_graph([](const std::vector<Tensor>& in) {
    return std::vector<Tensor>{nn::sigmoid_cross_entropy_with_logits(in[0], in[1])};
  }, {probs, logits}), "sigmoid_cross_entropy_with_logits");

  check_scoped(trace_graph([](const std::vector<Tensor>& in) {
    return std::vector<Tensor>{nn::mean_squared_error(in[0], in[1])};
  }, {probs, logits}), "mean_squared_error");

  check_scoped(trace_graph([](const std::vector<Tensor>& in) {
    return std::vector<Tensor>{nn::l2_loss(in[0])};
  }, {w}), "l2_loss");

  Graph reg = trace_graph([](const std::vector<Tensor>& in) {
    return std::vector<Tensor>{nn::l2_regularization({in[0], in[1]}, 0.1)};
  }, {w, b});
  check_scoped(reg, "l2_regularization");
  int nested = 0;
  for (const GraphNode& n : reg.nodes) nested += starts_with(n.scope, "l2_regularization/l2_loss/");
  CHECK(nested > 0);

  check_scoped(trace_graph([](const std::vector<Tensor>& in) {
    return std::vector<Tensor>{nn::accuracy(in[0], in[1])};
  }, {ids, logits}), "accuracy");

  CHECK(current_name_scope().empty());
}

TEST_CASE("traced layers record reads and ops under the layer's name, nested in outer scopes", "[nn][trace][scope]") {
  reset_variables();
  manual_seed(31);
  nn::Dense fc1(3, 4, nn::Activation::relu, "fc1");
  nn::Dense fc2(4, 2, nn::Activation::none, "fc2");
  Tensor x = reshape(linspace(-1, 1, 6), {2, 3});
  Graph g = trace_graph([&](const std::vector<Tensor>& in) {
    NameScope model("model");
    return std::vector<Tensor>{fc2(fc1(in[0]))};
  }, {x});
  std::multiset<std::string> ops = check_scoped(g, "model");
  std::map<std::string, std::string> scope_of;
  for (const GraphNode& n : g.nodes) {
    CHECK((starts_with(n.scope, "model/fc1/") || starts_with(n.scope, "model/fc2/")));
    scope_of[n.scope] = n.op.name();
  }
  CHECK(scope_of.count("model/fc1/matmul"));
  CHECK(scope_of.count("model/fc1/relu"));
  CHECK(scope_of.count("model/fc2/matmul"));
  CHECK(ops.count("read_variable") == 4);
  CHECK(ops.count("relu") == 1);
  // The replay reads the variables' current values.
  std::vector<Tensor> before = g.run({x});
  CHECK(bitwise_equal(before[0], fc2(fc1(x))));
  fc2.bias.assign(Tensor({1.0f, -1.0f}));
  CHECK(bitwise_equal(g.run({x})[0], fc2(fc1(x))));

  nn::Conv2D conv(1, 2, {2, 2}, {1, 1}, Padding::same, nn::Activation::tanh, "conv");
  Graph gc = trace_graph([&](const std::vector<Tensor>& in) { return std::vector<Tensor>{conv(in[0])}; },
                         {zeros({1, 3, 3, 1})});
  ops = check_scoped(gc, "conv");
  CHECK(ops.count("conv2d") == 1);
  CHECK(ops.count("tanh") == 1);

  nn::Embedding emb(5, 2, "emb");
  check_scoped(trace_graph([&](const std::vector<Tensor>& in) { return std::vector<Tensor>{emb(in[0])}; },
                           {Tensor({1, 2})}), "emb");
}

TEST_CASE("a traced training-style step with every piece replays like eager", "[nn][trace]") {
  reset_variables();
  manual_seed(32);
  nn::Dense fc(4, 3, nn::Activation::tanh, "fc");
  auto fn = [&](const std::vector<Tensor>& in) {
    Tensor logits = fc(in[0]);
    Tensor loss = mean(nn::sparse_softmax_cross_entropy_with_logits(in[1], logits)) +
                  nn::l2_regularization({fc.kernel.value()}, 0.01);
    return std::vector<Tensor>{loss, nn::accuracy(in[1], logits)};
  };
  Tensor x = reshape(linspace(-1, 1, 20), {5, 4});
  Tensor labels({0, 1, 2, 1, 0});
  auto step = trace(fn);
  step({x, labels});
  Tensor x2 = x * 0.5f;
  std::vector<Tensor> replay = step({x2, labels}), eager = fn({x2, labels});
  CHECK(step.stats().replays == 1);
  CHECK(bitwise_equal(replay[0], eager[0]));
  CHECK(bitwise_equal(replay[1], eager[1]));
}

TEST_CASE("a float32 model runs in strict dtype mode: the pieces promote nothing implicitly", "[nn][dtypes]") {
  reset_variables();
  manual_seed(33);
  StrictDTypeScope strict(true);
  nn::Embedding emb(6, 4, "emb");
  nn::Conv2D conv(1, 1, {2, 2}, {1, 1}, Padding::same, nn::Activation::relu, "conv");
  nn::Dense fc(4, 3, nn::Activation::sigmoid, "fc");
  Tensor ids({1, 5});
  Tensor labels({2, 0});
  Tensor h = nn::dropout(emb(ids), 0.25, true);
  Tensor c = conv(reshape(h, {2, 2, 2, 1}));
  Tensor logits = fc(reshape(c, {2, -1}) * 0.0f + h);
  CHECK(logits.dtype() == DType::float32);
  Tensor total = mean(nn::sparse_softmax_cross_entropy_with_logits(labels, logits)) +
                 mean(nn::softmax_cross_entropy_with_logits(one_hot(labels, 3), logits)) +
                 mean(nn::sigmoid_cross_entropy_with_logits(one_hot(labels, 3), logits)) +
                 nn::mean_squared_error(one_hot(labels, 3), logits) +
                 nn::l2_regularization({fc.kernel.value(), conv.kernel.value()}, 0.01) + nn::accuracy(labels, logits);
  CHECK(total.dtype() == DType::float32);
  CHECK(std::isfinite(total.item<double>()));
}

TEST_CASE("a traced training step names every op: layers, losses, gradients, updates, reads", "[nn][trace][scope]") {
  reset_variables();
  manual_seed(37);
  nn::Dense fc1(3, 4, nn::Activation::relu, "fc1");
  nn::Dense fc2(4, 3, nn::Activation::none, "fc2");
  std::vector<Variable> vars{fc1.kernel, fc1.bias, fc2.kernel, fc2.bias};
  Adam opt(0.01);
  Tensor x = reshape(linspace(-1, 1, 6), {2, 3});
  Tensor labels = Tensor({0, 2});
  Graph g = trace_graph([&](const std::vector<Tensor>& in) {
    Tensor loss = opt.minimize([&](const std::vector<Tensor>&) {
      Tensor logits = fc2(fc1(in[0]));
      return add(mean(nn::sparse_softmax_cross_entropy_with_logits(in[1], logits)),
                 nn::l2_regularization({fc1.kernel.value(), fc2.kernel.value()}, 1e-3));
    }, vars);
    return std::vector<Tensor>{loss};
  }, {x, labels});
  CHECK(current_name_scope().empty());

  auto parent = [](const std::string& s) { return s.substr(0, s.rfind('/')); };
  std::set<std::string> top;
  std::multiset<std::string> scopes;  // every node's scope without the op
  for (const GraphNode& n : g.nodes) {
    INFO("node " << n.op << " in scope '" << n.scope << "'");
    if (n.scope.find('/') == std::string::npos) {
      // Only the user's own ops (the loss's mean and sum) are at the root.
      CHECK((n.op == "reduce_sum" || n.op == "div" || n.op == "add"));
      continue;
    }
    top.insert(n.scope.substr(0, n.scope.find('/')));
    scopes.insert(parent(n.scope));
    if (n.op == "read_variable") {
      // Reads sit under the variable's name: inside the layer that reads them, in the update
      // that reads them, or at the top for minimize's own reads.
      std::string p = parent(n.scope);
      bool known = false;
      for (const Variable& v : vars)
        for (const std::string& s : {v.name(), "Adam/" + v.name(), "Adam/" + v.name() + "/Adam/m",
                                     "Adam/" + v.name() + "/Adam/v"})
          known |= p == s;
      known |= p == "Adam/iterations";
      CHECK(known);
    }
    if (n.op == "assign") CHECK(n.scope.rfind("Adam/", 0) == 0);
  }
  // The top-level boxes read like the model.
  CHECK(top == std::set<std::string>{"fc1", "fc2", "sparse_softmax_cross_entropy_with_logits", "l2_regularization",
                                     "gradients", "Adam"});
  // Losses under their function's name; their gradients under gradients/<the same name>.
  CHECK(scopes.count("sparse_softmax_cross_entropy_with_logits") > 0);
  CHECK(scopes.count("l2_regularization/l2_loss") > 0);
  CHECK(scopes.count("gradients/sparse_softmax_cross_entropy_with_logits") > 0);
  CHECK(scopes.count("gradients/l2_regularization/l2_loss") > 0);
  // Gradients of the layers under gradients/<layer>.
  CHECK(scopes.count("gradients/fc1") > 0);
  CHECK(scopes.count("gradients/fc2") > 0);
  // Updates under Adam/<variable's name>: each assigns the variable and its two slots.
  for (const Variable& v : vars) {
    INFO("variable " << v.name());
    int assigns = 0;
    for (const GraphNode& n : g.nodes) assigns += n.scope == "Adam/" + v.name() + "/assign";
    CHECK(assigns == 3);
  }
  // Reads of the layers' variables inside the layers.
  CHECK(scopes.count("fc1/kernel") > 0);
  CHECK(scopes.count("fc2/bias") > 0);
}
