// Optimizers: TensorFlow 1's update formulas against NumPy trajectories (optim_reference.json,
// written at build time by tests/optim/reference.py), minimize on least squares, traced training
// steps replaying bitwise like eager, slots, iterations and argument errors.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "xflow/optim.hpp"
#include "xflow/trace.hpp"
#include "xflow/xflow.hpp"

using namespace xf;
using json = nlohmann::json;

namespace {

const json& reference() {
  static const json doc = [] {
    std::vector<std::string> paths;
    if (const char* env = std::getenv("XFLOW_OPTIM_REFERENCE")) paths.push_back(env);
#ifdef XFLOW_OPTIM_REFERENCE
    paths.push_back(XFLOW_OPTIM_REFERENCE);
#endif
    for (const char* p : {"optim_reference.json", "tests/optim_reference.json", "build/tests/optim_reference.json"})
      paths.push_back(p);
    for (const std::string& p : paths) {
      std::ifstream f(p);
      if (f) return json::parse(f);
    }
    throw std::runtime_error(
        "optim_reference.json not found (set XFLOW_OPTIM_REFERENCE); ninja builds it from tests/optim/reference.py");
  }();
  return doc;
}

Tensor tensor_of(const json& t, DType d = DType::float64) {
  Shape shape = t.at("shape").get<Shape>();
  Tensor x = Tensor::from_vector(t.at("data").get<std::vector<double>>(), shape);
  return d == DType::float64 ? x : cast(x, d);
}

std::unique_ptr<Optimizer> make_optimizer(const json& c) {
  const std::string kind = c.at("optimizer").get<std::string>();
  const json& a = c.at("args");
  if (kind == "SGD") return std::make_unique<SGD>(a[0].get<double>());
  if (kind == "Momentum") return std::make_unique<Momentum>(a[0].get<double>(), a[1].get<double>(), a[2].get<bool>());
  if (kind == "Adam")
    return std::make_unique<Adam>(a[0].get<double>(), a[1].get<double>(), a[2].get<double>(), a[3].get<double>());
  if (kind == "RMSProp")
    return std::make_unique<RMSProp>(a[0].get<double>(), a[1].get<double>(), a[2].get<double>(), a[3].get<double>(),
                                     a[4].get<bool>());
  throw std::runtime_error("unknown optimizer " + kind);
}

// "" when |got - want| <= atol + rtol * |want| everywhere (and the shapes agree), else why not.
std::string mismatch(const Tensor& got, const json& want, double rtol, double atol) {
  Shape shape = want.at("shape").get<Shape>();
  if (got.shape() != shape) return "shape " + shape_str(got.shape()) + ", want " + shape_str(shape);
  std::vector<double> g = got.to_vector<double>();
  std::vector<double> w = want.at("data").get<std::vector<double>>();
  for (size_t i = 0; i < w.size(); ++i) {
    if (std::fabs(g[i] - w[i]) <= atol + rtol * std::fabs(w[i])) continue;
    std::ostringstream os;
    os.precision(17);
    os << "element " << i << ": got " << g[i] << ", want " << w[i] << " (diff " << g[i] - w[i] << ")";
    return os.str();
  }
  return "";
}

// Names of every slot each optimizer kind makes.
std::vector<std::string> slot_names(const json& c) {
  const std::string kind = c.at("optimizer").get<std::string>();
  if (kind == "Momentum") return {"momentum"};
  if (kind == "Adam") return {"m", "v"};
  if (kind == "RMSProp") {
    if (c.at("args")[4].get<bool>()) return {"rms", "momentum", "mg"};
    return {"rms", "momentum"};
  }
  return {};
}

}  // namespace

TEST_CASE("the reference covers every optimizer and variant", "[optim]") {
  std::vector<std::string> names;
  for (const json& c : reference().at("fed")) names.push_back(c.at("name").get<std::string>());
  CHECK(names == std::vector<std::string>{"sgd", "momentum", "nesterov", "adam", "adam_defaults", "rmsprop",
                                          "rmsprop_momentum", "rmsprop_centered"});
  CHECK(reference().at("quadratic").at("cases").size() == names.size());
}

TEST_CASE("apply_gradients follows TensorFlow 1's formulas (NumPy trajectories, float64)", "[optim][numpy]") {
  for (const json& c : reference().at("fed")) {
    reset_variables();
    const std::string name = c.at("name").get<std::string>();
    INFO("case " << name);
    std::unique_ptr<Optimizer> opt = make_optimizer(c);
    std::vector<Variable> vars;
    for (const json& t : c.at("vars0")) vars.emplace_back(tensor_of(t), "x");
    const json& grads = c.at("grads");
    const json& traj = c.at("traj");
    for (size_t step = 0; step < grads.size(); ++step) {
      std::vector<std::pair<Tensor, Variable>> gv;
      for (size_t i = 0; i < vars.size(); ++i) gv.emplace_back(tensor_of(grads[step][i]), vars[i]);
      opt->apply_gradients(gv);
      for (size_t i = 0; i < vars.size(); ++i) {
        INFO("step " << step + 1 << ", variable " << i);
        CHECK(mismatch(vars[i].value(), traj[step][i], 1e-12, 1e-14) == "");
      }
    }
    CHECK(opt->iterations() == c.at("iterations").get<int64_t>());
    // The slots hold NumPy's accumulators (RMSProp's "rms" started at one).
    std::vector<std::string> expected = slot_names(c);
    CHECK(c.at("slots").size() == expected.size());
    for (const std::string& s : expected) {
      for (size_t i = 0; i < vars.size(); ++i) {
        INFO("slot " << s << " of variable " << i);
        Variable v = opt->get_slot(vars[i], s);
        REQUIRE(v.defined());
        CHECK(v.dtype() == DType::float64);
        CHECK(mismatch(v.value(), c.at("slots").at(s)[i], 1e-12, 1e-14) == "");
      }
    }
  }
}

TEST_CASE("float32 variables follow the same trajectories at float32 precision", "[optim][numpy]") {
  for (const json& c : reference().at("fed")) {
    reset_variables();
    INFO("case " << c.at("name").get<std::string>());
    std::unique_ptr<Optimizer> opt = make_optimizer(c);
    std::vector<Variable> vars;
    for (const json& t : c.at("vars0")) vars.emplace_back(tensor_of(t, DType::float32), "x");
    const json& grads = c.at("grads");
    for (size_t step = 0; step < grads.size(); ++step) {
      std::vector<std::pair<Tensor, Variable>> gv;
      for (size_t i = 0; i < vars.size(); ++i) gv.emplace_back(tensor_of(grads[step][i], DType::float32), vars[i]);
      opt->apply_gradients(gv);
    }
    for (size_t i = 0; i < vars.size(); ++i) {
      INFO("variable " << i);
      CHECK(vars[i].value().dtype() == DType::float32);
      CHECK(mismatch(vars[i].value(), c.at("traj").back()[i], 1e-5, 1e-5) == "");
      for (const std::string& s : slot_names(c)) CHECK(opt->get_slot(vars[i], s).dtype() == DType::float32);
    }
  }
}

TEST_CASE("minimize follows the NumPy trajectory on a quadratic", "[optim][numpy]") {
  const json& q = reference().at("quadratic");
  Tensor A = tensor_of(q.at("A"));
  Tensor b = tensor_of(q.at("b"));
  auto loss_fn = [&](const std::vector<Tensor>& p) { return 0.5 * sum(square(matmul(A, p[0]) - b)); };
  for (const json& c : q.at("cases")) {
    reset_variables();
    INFO("case " << c.at("name").get<std::string>());
    std::unique_ptr<Optimizer> opt = make_optimizer(c);
    Variable x(tensor_of(q.at("x0")), "x");
    const json& losses = c.at("loss");
    for (size_t step = 0; step < losses.size(); ++step) {
      INFO("step " << step + 1);
      Tensor loss = opt->minimize(loss_fn, {x});
      CHECK(loss.dtype() == DType::float64);
      double want = losses[step].get<double>();
      CHECK(std::fabs(loss.item<double>() - want) <= 1e-12 * std::fabs(want) + 1e-14);
      CHECK(mismatch(x.value(), c.at("traj")[step], 1e-12, 1e-14) == "");
    }
    CHECK(opt->iterations() == static_cast<int64_t>(losses.size()));
  }
}

TEST_CASE("minimize decreases a least-squares loss", "[optim]") {
  manual_seed(3);
  Tensor X = random_normal({32, 4});
  Tensor w_true = Tensor({{1.0f}, {-2.0f}, {0.5f}, {3.0f}});
  Tensor y = matmul(X, w_true) + 0.25f;
  struct Case {
    const char* name;
    std::function<std::unique_ptr<Optimizer>()> make;
  };
  std::vector<Case> cases = {
      {"SGD", [] { return std::make_unique<SGD>(0.1); }},
      {"Momentum", [] { return std::make_unique<Momentum>(0.05, 0.9); }},
      {"Nesterov", [] { return std::make_unique<Momentum>(0.05, 0.9, true); }},
      {"Adam", [] { return std::make_unique<Adam>(0.1); }},
      {"RMSProp", [] { return std::make_unique<RMSProp>(0.05); }},
      {"RMSProp centered, momentum", [] { return std::make_unique<RMSProp>(0.02, 0.9, 0.5, 1e-10, true); }},
  };
  for (const Case& c : cases) {
    reset_variables();
    INFO(c.name);
    std::unique_ptr<Optimizer> opt = c.make();
    Variable w(zeros({4, 1}), "w");
    Variable bias(zeros({1}), "b");
    auto loss_fn = [&](const std::vector<Tensor>& p) { return mean(square(matmul(X, p[0]) + p[1] - y)); };
    float first = opt->minimize(loss_fn, {w, bias}).item<float>();
    float last = first;
    for (int i = 0; i < 200; ++i) last = opt->minimize(loss_fn, {w, bias}).item<float>();
    CHECK(std::isfinite(last));
    CHECK(last < 0.01f * first);
    CHECK(opt->iterations() == 201);
  }
}

TEST_CASE("a traced training step replays bitwise like eager, slots and count included", "[optim][trace]") {
  struct Case {
    const char* name;
    std::function<std::unique_ptr<Optimizer>()> make;
    std::vector<std::string> slots;
  };
  std::vector<Case> cases = {
      {"SGD", [] { return std::make_unique<SGD>(0.1); }, {}},
      {"Momentum", [] { return std::make_unique<Momentum>(0.1, 0.9); }, {"momentum"}},
      {"Nesterov", [] { return std::make_unique<Momentum>(0.1, 0.9, true); }, {"momentum"}},
      {"Adam", [] { return std::make_unique<Adam>(0.05); }, {"m", "v"}},
      {"RMSProp", [] { return std::make_unique<RMSProp>(0.01, 0.9, 0.5); }, {"rms", "momentum"}},
      {"RMSProp centered", [] { return std::make_unique<RMSProp>(0.01, 0.9, 0.5, 1e-10, true); },
       {"rms", "momentum", "mg"}},
  };
  // Two styles of loss_fn: from the values minimize passes, or reading the variables again (as
  // samples/digits does; a read returns the watched value until the variable is assigned).
  for (bool reread : {false, true}) {
    for (const Case& c : cases) {
      reset_variables();
      INFO(c.name << (reread ? ", loss_fn reads the variables" : ", loss_fn uses its arguments"));
      manual_seed(11);
      Tensor w0 = random_normal({4, 3});
      Tensor b0 = random_normal({3});
      std::vector<Tensor> xs, ys;
      for (int i = 0; i < 5; ++i) {
        xs.push_back(random_normal({8, 4}));
        ys.push_back(random_normal({8, 3}));
      }
      auto loss_of = [](const Tensor& x, const Tensor& y, const Tensor& w, const Tensor& b) {
        return mean(square(matmul(x, w) + b - y));
      };
      // Eager.
      Variable we(w0, "w"), be(b0, "b");
      std::unique_ptr<Optimizer> opt_e = c.make();
      std::vector<Tensor> eager_losses;
      for (int i = 0; i < 5; ++i) {
        eager_losses.push_back(opt_e->minimize(
            [&](const std::vector<Tensor>& p) {
              return reread ? loss_of(xs[i], ys[i], we.value(), be.value()) : loss_of(xs[i], ys[i], p[0], p[1]);
            },
            {we, be}));
      }
      // Traced: the first call records, the next four replay.
      Variable wt(w0, "w"), bt(b0, "b");
      std::unique_ptr<Optimizer> opt_t = c.make();
      auto step = trace([&](const std::vector<Tensor>& in) {
        Tensor loss = opt_t->minimize(
            [&](const std::vector<Tensor>& p) {
              return reread ? loss_of(in[0], in[1], wt.value(), bt.value()) : loss_of(in[0], in[1], p[0], p[1]);
            },
            {wt, bt});
        return std::vector<Tensor>{loss};
      });
      for (int i = 0; i < 5; ++i) {
        INFO("step " << i + 1);
        Tensor loss = step({xs[i], ys[i]})[0];
        CHECK(bitwise_equal(loss, eager_losses[i]));
      }
      CHECK(step.stats().traces == 1);
      CHECK(step.stats().replays == 4);
      CHECK(step.stats().guard_failures == 0);
      CHECK(bitwise_equal(wt.value(), we.value()));
      CHECK(bitwise_equal(bt.value(), be.value()));
      CHECK_FALSE(bitwise_equal(wt.value(), w0));  // it did train
      for (const std::string& s : c.slots) {
        INFO("slot " << s);
        REQUIRE(opt_t->get_slot(wt, s).defined());
        CHECK(bitwise_equal(opt_t->get_slot(wt, s).value(), opt_e->get_slot(we, s).value()));
        CHECK(bitwise_equal(opt_t->get_slot(bt, s).value(), opt_e->get_slot(be, s).value()));
      }
      CHECK(opt_e->iterations() == 5);
      CHECK(opt_t->iterations() == 5);
    }
  }
}

TEST_CASE("a traced apply_gradients replays the iteration count and Adam's bias correction", "[optim][trace]") {
  reset_variables();
  Variable we(Tensor({1.0f, -1.0f}), "w"), wt(Tensor({1.0f, -1.0f}), "w");
  Adam opt_e(0.1), opt_t(0.1);
  auto step = trace([&](const std::vector<Tensor>& in) {
    opt_t.apply_gradients({{in[0], wt}});
    return std::vector<Tensor>{wt.value()};
  });
  for (int i = 0; i < 6; ++i) {
    Tensor g = Tensor({0.5f, 2.0f}) * static_cast<float>(i + 1);
    opt_e.apply_gradients({{g, we}});
    CHECK(bitwise_equal(step({g})[0], we.value()));
  }
  CHECK(step.stats().replays == 5);
  CHECK(opt_t.iterations() == 6);
  CHECK(opt_e.iterations() == 6);
}

TEST_CASE("slots are non-trainable Variables created once per variable and name", "[optim]") {
  reset_variables();
  Variable w(Tensor({{1.0, 2.0}, {3.0, 4.0}}), "w");
  Variable b(Tensor({0.5}), "b");
  Tensor gw = Tensor({{0.1, 0.2}, {0.3, 0.4}});
  Tensor gb = Tensor({1.0});

  SECTION("Momentum") {
    Momentum opt(0.1, 0.9);
    CHECK_FALSE(opt.get_slot(w, "momentum").defined());
    CHECK(opt.iterations() == 0);
    opt.apply_gradients({{gw, w}, {gb, b}});
    // w, b, two accumulators and the iteration count.
    CHECK(global_variables().size() == 5);
    CHECK(trainable_variables().size() == 2);
    Variable acc = opt.get_slot(w, "momentum");
    REQUIRE(acc.defined());
    CHECK(acc.name() == "w/Momentum/momentum");
    CHECK_FALSE(acc.trainable());
    CHECK(acc.shape() == w.shape());
    CHECK(acc.dtype() == DType::float64);
    CHECK(bitwise_equal(acc.value(), gw));  // 0 * 0.9 + g
    int64_t id = acc.id();
    opt.apply_gradients({{gw, w}, {gb, b}});
    opt.apply_gradients({{gw, w}, {gb, b}});
    CHECK(global_variables().size() == 5);
    CHECK(opt.get_slot(w, "momentum").id() == id);
    CHECK(opt.get_slot(b, "momentum").id() != id);
    CHECK_FALSE(opt.get_slot(w, "m").defined());
    CHECK(opt.iterations() == 3);
  }
  SECTION("SGD has no slots") {
    SGD opt(0.5);
    opt.apply_gradients({{gw, w}, {gb, b}});
    CHECK(global_variables().size() == 3);  // w, b and the count
    CHECK(bitwise_equal(w.value(), Tensor({{1.0 - 0.1 * 0.5, 2.0 - 0.2 * 0.5}, {3.0 - 0.3 * 0.5, 4.0 - 0.4 * 0.5}})));
  }
  SECTION("Adam") {
    Adam opt;
    opt.apply_gradients({{gw, w}});
    CHECK(global_variables().size() == 5);  // w, b, m, v, the count
    CHECK(opt.get_slot(w, "m").name() == "w/Adam/m");
    CHECK(opt.get_slot(w, "v").name() == "w/Adam/v");
    CHECK_FALSE(opt.get_slot(b, "m").defined());  // b has had no gradient yet
    opt.apply_gradients({{gb, b}});
    opt.apply_gradients({{gw, w}, {gb, b}});
    CHECK(global_variables().size() == 7);
    CHECK(opt.iterations() == 3);
  }
  SECTION("RMSProp: the mean square starts at one; only the centered variant has mg") {
    RMSProp plain(0.01, 0.9);
    plain.apply_gradients({{gb, b}});
    CHECK(plain.get_slot(b, "rms").value().item<double>() == 0.9 * 1.0 + 1.0 * (1.0 - 0.9));
    CHECK(plain.get_slot(b, "momentum").defined());
    CHECK_FALSE(plain.get_slot(b, "mg").defined());
    RMSProp centered(0.01, 0.9, 0.0, 1e-10, true);
    centered.apply_gradients({{gb, b}});
    CHECK(centered.get_slot(b, "mg").value().item<double>() == 1.0 * (1.0 - 0.9));
    CHECK(centered.get_slot(b, "rms").name() == "b/RMSProp/rms_1");  // names are unique
  }
}

TEST_CASE("apply_gradients checks every gradient before changing anything", "[optim][errors]") {
  reset_variables();
  Variable w(Tensor({1.0f, 2.0f}), "w");
  Variable v(Tensor({{1.0f}, {2.0f}}), "v");
  Variable n(Tensor({1, 2}), "n");
  Adam opt(0.1);
  Tensor before_w = w.value();
  Tensor before_v = v.value();

  // The wrong shape: ShapeError naming the variable, even after a good pair.
  CHECK_THROWS_AS(opt.apply_gradients({{Tensor({1.0f, 1.0f}), w}, {Tensor({1.0f, 1.0f}), v}}), ShapeError);
  CHECK_THROWS_WITH(opt.apply_gradients({{Tensor({1.0f, 1.0f}), w}, {Tensor({1.0f, 1.0f}), v}}),
                    Catch::Matchers::Contains("variable 'v'") && Catch::Matchers::Contains("(2,)") &&
                        Catch::Matchers::Contains("[apply_gradients]"));
  CHECK_THROWS_AS(opt.apply_gradients({{Tensor({1.0f, 1.0f, 1.0f}), w}}), ShapeError);
  // The wrong dtype: float64 into a float32 variable would lose precision; integers have no gradient.
  CHECK_THROWS_AS(opt.apply_gradients({{Tensor({1.0, 1.0}), w}}), DTypeError);
  CHECK_THROWS_WITH(opt.apply_gradients({{Tensor({1.0, 1.0}), w}}), Catch::Matchers::Contains("variable 'w'"));
  CHECK_THROWS_AS(opt.apply_gradients({{Tensor({1, 1}), w}}), DTypeError);
  // Integer variables do not train.
  CHECK_THROWS_AS(opt.apply_gradients({{Tensor({1.0f, 1.0f}), n}}), DTypeError);
  CHECK_THROWS_AS(opt.minimize([](const std::vector<Tensor>& p) { return sum(cast(p[0], DType::float32)); }, {n}),
                  DTypeError);
  // Empty handles, no pairs, a variable twice.
  CHECK_THROWS_AS(opt.apply_gradients({{Tensor(), w}}), InvalidArgument);
  CHECK_THROWS_AS(opt.apply_gradients({{Tensor({1.0f, 1.0f}), Variable()}}), InvalidArgument);
  CHECK_THROWS_AS(opt.apply_gradients({}), InvalidArgument);
  CHECK_THROWS_WITH(opt.apply_gradients({{Tensor({1.0f, 1.0f}), w}, {Tensor({1.0f, 1.0f}), w}}),
                    Catch::Matchers::Contains("more than once"));
  CHECK_THROWS_AS(opt.minimize([](const std::vector<Tensor>& p) { return sum(p[0]); }, {}), InvalidArgument);
  // Nothing changed.
  CHECK(opt.iterations() == 0);
  CHECK(bitwise_equal(w.value(), before_w));
  CHECK(bitwise_equal(v.value(), before_v));
  CHECK_FALSE(opt.get_slot(w, "m").defined());

  // A float32 gradient for a float64 variable promotes without loss.
  Variable d(Tensor({1.0, 2.0}), "d");
  SGD sgd(0.5);
  sgd.apply_gradients({{Tensor({1.0f, 2.0f}), d}});
  CHECK(d.value().dtype() == DType::float64);
  CHECK(d.value().to_vector<double>() == std::vector<double>{0.5, 1.0});
}

TEST_CASE("hyperparameters are checked", "[optim][errors]") {
  CHECK_THROWS_AS(SGD(std::nan("")), InvalidArgument);
  CHECK_THROWS_AS((Momentum(0.1, HUGE_VAL)), InvalidArgument);
  CHECK_THROWS_AS((Adam(0.1, 1.0)), InvalidArgument);
  CHECK_THROWS_AS((Adam(0.1, 0.9, -0.1)), InvalidArgument);
  CHECK_THROWS_AS((Adam(0.1, 0.9, 0.999, -1e-8)), InvalidArgument);
  CHECK_THROWS_AS((RMSProp(0.1, 1.5)), InvalidArgument);
  CHECK_NOTHROW(Adam());
  CHECK_NOTHROW(RMSProp());
}

TEST_CASE("minimize gives unconnected variables a zero gradient and returns the loss", "[optim]") {
  reset_variables();
  Variable a(Tensor({2.0f}), "a");
  Variable unused(Tensor({5.0f}), "unused");
  SGD opt(0.25);
  Tensor loss = opt.minimize([](const std::vector<Tensor>& p) { return sum(square(p[0])); }, {a, unused});
  CHECK(loss.item<float>() == 4.0f);
  CHECK(a.value().item<float>() == 2.0f - 0.25f * 4.0f);
  CHECK(unused.value().item<float>() == 5.0f);
  CHECK(opt.iterations() == 1);
}

TEST_CASE("a traced update is named <optimizer>/<variable>, nested in the caller's scope", "[optim][scope]") {
  struct Case {
    const char* name;
    std::function<std::unique_ptr<Optimizer>()> make;
  };
  std::vector<Case> cases = {
      {"SGD", [] { return std::make_unique<SGD>(0.1); }},
      {"Momentum", [] { return std::make_unique<Momentum>(0.05, 0.9); }},
      {"Adam", [] { return std::make_unique<Adam>(0.1); }},
      {"RMSProp", [] { return std::make_unique<RMSProp>(0.05); }},
  };
  for (const Case& c : cases) {
    reset_variables();
    INFO(c.name);
    std::unique_ptr<Optimizer> opt = c.make();
    Variable w(Tensor({1.0f, 2.0f}), "layer/w");
    Variable b(Tensor({0.5f}), "b");
    Graph g = trace_graph([&](const std::vector<Tensor>& in) {
      NameScope train("train");
      opt->apply_gradients({{in[0], w}, {in[1], b}});
      return std::vector<Tensor>{w.value(), b.value()};
    }, {Tensor({0.1f, 0.2f}), Tensor({0.3f})});
    CHECK(current_name_scope().empty());
    const std::string top = std::string("train/") + c.name;
    int w_assigns = 0, b_assigns = 0;
    for (const GraphNode& n : g.nodes) {
      INFO("node " << n.op << " in scope '" << n.scope << "'");
      const std::string scope = n.scope.substr(0, n.scope.rfind('/'));
      if (n.op == "read_variable") {
        // Under the variable's name: the update's own reads, its slots', the count's, and the
        // two reads the function returns.
        bool slot = scope.rfind(top + "/layer/w/" + c.name + "/", 0) == 0 || scope.rfind(top + "/b/" + c.name + "/", 0) == 0;
        CHECK((slot || scope == top + "/layer/w" || scope == top + "/b" || scope == top + "/iterations" ||
               scope == "train/layer/w" || scope == "train/b"));
        continue;
      }
      CHECK(n.scope.rfind(top + "/", 0) == 0);
      if (n.op == "assign") {
        w_assigns += scope == top + "/layer/w";
        b_assigns += scope == top + "/b";
      }
    }
    // The variable and each slot are assigned in the variable's update.
    size_t slots = std::string(c.name) == "SGD" ? 0 : std::string(c.name) == "Momentum" ? 1 : 2;
    CHECK(w_assigns == static_cast<int>(1 + slots));
    CHECK(b_assigns == static_cast<int>(1 + slots));
  }
}

// ---- adam_update, the kernel of Adam's update ----

TEST_CASE("adam_update gives the bits of the elementwise op chain it replaces", "[optim][adam_update]") {
  manual_seed(31);
  for (DType dt : {DType::float32, DType::float64}) {
    INFO(dtype_name(dt));
    // Sizes below and above the kernel's parallel grain; moments of both signs and sizes.
    for (int64_t n : {int64_t{7}, int64_t{40000}}) {
      Tensor var = cast(random_normal({n}), dt), m = cast(random_normal({n}) * 0.1, dt);
      Tensor v = cast(random_uniform({n}, 0.0, 0.01), dt), g = cast(random_normal({n}) * 0.3, dt);
      Tensor lr_t = cast(Tensor(0.0031), dt);
      const double b1 = 0.9, b2 = 0.999, eps = 1e-7;
      AdamResult r = adam_update(var, m, v, g, lr_t, b1, b2, eps);
      Tensor m2 = add(mul(m, b1), mul(g, 1.0 - b1));
      Tensor v2 = add(mul(v, b2), mul(square(g), 1.0 - b2));
      Tensor var2 = sub(var, div(mul(lr_t, m2), add(sqrt(v2), eps)));
      CHECK(bitwise_equal(r.m, m2));
      CHECK(bitwise_equal(r.v, v2));
      CHECK(bitwise_equal(r.var, var2));
      CHECK(bitwise_equal(var, cast(var, dt)));  // inputs untouched (results are new tensors)
    }
  }
}

TEST_CASE("adam_update replays bitwise and round-trips through JSON", "[optim][adam_update][json]") {
  auto fn = [](const std::vector<Tensor>& in) {
    AdamResult r = adam_update(in[0], in[1], in[2], in[3], in[4], 0.8, 0.99, 1e-6);
    return std::vector<Tensor>{r.var, r.m, r.v};
  };
  std::vector<Tensor> in{Tensor({1.0f, -2.0f, 3.0f}), Tensor({0.1f, 0.2f, -0.3f}), Tensor({0.01f, 0.02f, 0.0f}),
                         Tensor({0.5f, -0.25f, 2.0f}), Tensor(0.01f)};
  std::vector<Tensor> eager = fn(in);
  Graph g = trace_graph(fn, in);
  Graph back = Graph::from_json(g.to_json());
  CHECK(back.to_json() == g.to_json());
  CHECK(g.to_json().find("\"beta2\":0.99") != std::string::npos);
  Plan plan(back);
  std::vector<Tensor> r = plan.run(in);
  for (size_t i = 0; i < eager.size(); ++i) CHECK(bitwise_equal(r[i], eager[i]));
}

TEST_CASE("adam_update rejects bad inputs with clear errors", "[optim][adam_update][errors]") {
  Tensor x = Tensor({1.0f, 2.0f}), lr = Tensor(0.1f);
  CHECK_THROWS_WITH(adam_update(x, x, x, Tensor({1.0f, 2.0f, 3.0f}), lr, 0.9, 0.999, 1e-8),
                    Catch::Contains("[adam_update]") && Catch::Contains("grad must have var's shape"));
  CHECK_THROWS_AS(adam_update(x, x, Tensor({1.0, 2.0}), x, lr, 0.9, 0.999, 1e-8), DTypeError);
  CHECK_THROWS_AS(adam_update(Tensor({1, 2}), Tensor({1, 2}), Tensor({1, 2}), Tensor({1, 2}), Tensor(1), 0.9, 0.999,
                              1e-8),
                  DTypeError);
  CHECK_THROWS_WITH(adam_update(x, x, x, x, x, 0.9, 0.999, 1e-8), Catch::Contains("lr_t must be a scalar"));
  CHECK_THROWS_AS(adam_update(x, x, x, x, lr, 1.0, 0.999, 1e-8), InvalidArgument);
  CHECK_THROWS_AS(adam_update(x, x, x, x, lr, 0.9, -0.1, 1e-8), InvalidArgument);
  CHECK_THROWS_WITH(adam_update(x, x, x, x, lr, 0.9, 0.999, std::nan("")), Catch::Contains("epsilon must be finite"));
  CHECK_THROWS_AS(adam_update(x, Tensor(), x, x, lr, 0.9, 0.999, 1e-8), InvalidArgument);
}

TEST_CASE("updates keep their fresh results as the new values, with the values of a copy", "[optim][assign]") {
  // Eager with nothing observing: Adam's new var, m and v (and the other optimizers' slot
  // updates) become the variables' values without a copy. Under an open tape (an observer) the
  // assignments copy as before; both give the same bits, and earlier reads keep their values.
  manual_seed(47);
  const int64_t n = 1000;  // large enough to have its own buffer (small tensors hold bytes inline)
  Tensor w0 = random_normal({n}), g1 = random_normal({n}), g2 = random_normal({n}) * 0.5;
  auto make = [](int which) -> std::unique_ptr<Optimizer> {
    if (which == 0) return std::make_unique<Adam>(0.01);
    if (which == 1) return std::make_unique<Momentum>(0.01, 0.9, true);
    return std::make_unique<RMSProp>(0.01, 0.9, 0.5, 1e-7, true);
  };
  for (int which = 0; which < 3; ++which) {
    INFO("optimizer " << which);
    reset_variables();
    Variable a(w0, "a"), b(w0, "b");
    std::unique_ptr<Optimizer> oa = make(which), ob = make(which);
    oa->apply_gradients({{g1, a}});  // creates the slots
    ob->apply_gradients({{g1, b}});
    Tensor before = a.value();
    std::vector<float> before_values = before.to_vector<float>();
    int64_t allocs = allocator_stats().allocations;
    oa->apply_gradients({{g2, a}});
    if (which == 0) CHECK(allocator_stats().allocations - allocs == 3);  // new var, m and v only
    {
      GradientTape tape;  // an observer: the assignments copy
      tape.watch(g2);
      ob->apply_gradients({{g2, b}});
    }
    CHECK(bitwise_equal(a.value(), b.value()));
    for (const char* s : {"m", "v", "momentum", "rms", "mg"}) {
      Variable sa = oa->get_slot(a, s), sb = ob->get_slot(b, s);
      CHECK(sa.defined() == sb.defined());
      if (sa.defined()) CHECK(bitwise_equal(sa.value(), sb.value()));
    }
    CHECK(before.to_vector<float>() == before_values);  // the earlier read is untouched
    CHECK_FALSE(bitwise_equal(a.value(), before));
  }
}
