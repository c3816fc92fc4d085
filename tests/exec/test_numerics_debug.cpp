// Numeric debugging: the check_numerics primitive (TensorFlow's CheckNumerics), add_check_numerics_ops,
// the numerics-checking mode (CheckNumericsScope, XFLOW_CHECK_NUMERICS) on every path that runs ops,
// dump_run with `xflow inspect DIR`, and exceptions carried out of parallel_for.
#include <catch2/catch.hpp>

#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/parallel.hpp"
#include "temp_files.hpp"
#include "testing.hpp"
#include "xflow/numerics.hpp"
#include "xflow/numerics_dump.hpp"
#include "xflow/xflow.hpp"
#include "process.hpp"
#include "expect.hpp"

#ifndef XFLOW_CLI
#error "XFLOW_CLI must name the xflow binary"
#endif

using namespace xf;
using Catch::Matchers::Contains;
using xf::testing::TempDir;

namespace {

const float kNaN = std::numeric_limits<float>::quiet_NaN();
const float kInf = std::numeric_limits<float>::infinity();

Tensor vec(std::vector<float> v) { return Tensor::from_vector(v, {static_cast<int64_t>(v.size())}); }

using xf::testing::message_of;

std::string run_command(const std::string& cmd, int* status) {
  xf::testing::CommandResult r = xf::testing::run_command(cmd);
  *status = r.status;
  return r.output;
}

int count_op(const Graph& g, const std::string& op) {
  int n = 0;
  for (const GraphNode& node : g.nodes) n += node.op == op;
  return n;
}

}  // namespace

// ---- the primitive ----

TEST_CASE("check_numerics returns its input unchanged", "[check_numerics]") {
  Tensor x = vec({1.5f, -2.0f, 0.0f});
  Tensor y = check_numerics(x, "fine");
  CHECK(bitwise_equal(x, y));
  CHECK(y.raw_data() == x.raw_data());  // a view, no copy
  Tensor d = cast(x, DType::float64);
  CHECK(bitwise_equal(check_numerics(d, "double"), d));
  Tensor strided = transpose(reshape(linspace(0, 1, 6), {2, 3}));
  CHECK(bitwise_equal(check_numerics(strided, "strided"), strided));
}

TEST_CASE("check_numerics raises TensorFlow's InvalidArgument messages", "[check_numerics]") {
  const int line = __LINE__ + 1;
  auto nan_msg = message_of<InvalidArgument>([] { check_numerics(vec({1.0f, kNaN}), "Checking b"); });
  CHECK(nan_msg == "[check_numerics] Checking b : Tensor had NaN values (test_numerics_debug.cpp:" +
                       std::to_string(line) + ")");
  CHECK_THAT(message_of<InvalidArgument>([] { check_numerics(vec({-kInf, 2.0f}), "Checking c"); }),
             Contains("Checking c : Tensor had Inf values"));
  CHECK_THAT(message_of<InvalidArgument>([] { check_numerics(vec({kInf, kNaN}), "both"); }),
             Contains("both : Tensor had Inf and NaN values"));
  CHECK_THAT(message_of<InvalidArgument>([] {
               check_numerics(Tensor::from_vector(std::vector<double>{0.0, std::nan("")}, {2}), "f64");
             }),
             Contains("f64 : Tensor had NaN values"));
}

TEST_CASE("check_numerics takes float tensors only", "[check_numerics]") {
  const int line = __LINE__ + 1;
  std::string msg = message_of<DTypeError>([] { check_numerics(Tensor({1, 2}), "ints"); });
  CHECK(msg == "[check_numerics] checks float tensors (float32, float64), got (2,) int32 (test_numerics_debug.cpp:" +
                   std::to_string(line) + ")");
  CHECK_THROWS_AS(check_numerics(vec({1.0f}) > 0.0f, "bool"), DTypeError);
  CHECK_THROWS_AS(check_numerics(Tensor(), "empty"), InvalidArgument);
}

TEST_CASE("check_numerics' gradient is the incoming gradient, itself checked", "[check_numerics][gradients]") {
  auto g = grad([](const std::vector<Tensor>& in) { return sum(check_numerics(in[0], "x") * 3.0f); });
  Tensor x = vec({1.0f, 2.0f});
  CHECK(g({x})[0].to_vector<float>() == std::vector<float>{3.0f, 3.0f});
  // sqrt's gradient at 0 is Inf: the check on the way back names TensorFlow's gradient message.
  auto bad = grad([](const std::vector<Tensor>& in) { return sum(sqrt(check_numerics(in[0], "input x"))); });
  CHECK_THAT(message_of<InvalidArgument>([&] { bad({vec({0.0f, 4.0f})}); }),
             Contains("Not a number (NaN) or infinity (Inf) values detected in gradient. input x : "
                               "Tensor had Inf values"));
}

TEST_CASE("check_numerics survives JSON and is never folded, merged or removed", "[check_numerics][passes]") {
  auto fn = [](const std::vector<Tensor>& in) {
    Tensor c = check_numerics(vec({1.0f, 2.0f}), "constant");  // reads a constant only
    Tensor a = check_numerics(in[0], "same");
    Tensor b = check_numerics(in[0], "same");  // equal to a: CSE must not merge checks
    check_numerics(in[0] * 2.0f, "unread");     // nobody reads it: DCE must keep it
    return std::vector<Tensor>{a + b + c};
  };
  Graph g = trace_graph(fn, {vec({1.0f, 2.0f})});
  CHECK(count_op(g, "check_numerics") == 4);
  Graph back = Graph::from_json(g.to_json());
  REQUIRE(count_op(back, "check_numerics") == 4);
  CHECK(back.to_json() == g.to_json());
  Graph opt = optimize(g);
  CHECK(count_op(opt, "check_numerics") == 4);
  CHECK(bitwise_equal(Plan(opt).run({vec({1.0f, 2.0f})})[0], vec({3.0f, 6.0f})));
  // The unread check still runs in a replay.
  CHECK_THAT(message_of<InvalidArgument>([&] { Plan(opt).run({vec({1.0f, kInf})}); }),
             Contains("same : Tensor had Inf values"));
  CHECK_THAT(message_of<InvalidArgument>([&] { Plan(opt).run({vec({1.0f, 3e38f})}); }),
             Contains("unread : Tensor had Inf values"));
}

TEST_CASE("check_numerics in replays equals eager, and raises with the node's location", "[check_numerics][plan]") {
  const int line = __LINE__ + 2;
  auto fn = [](const std::vector<Tensor>& in) {
    Tensor h = check_numerics(log(in[0]) * in[1], "after log");
    return std::vector<Tensor>{exp(h) + 1.0f, h};
  };
  Tensor a = xf::testing::input({3, 5}, 1), b = xf::testing::input({3, 5}, 2);
  a = abs(a) + 0.5f;
  Graph g = trace_graph(fn, {a, b});
  for (const PlanOptions& o : {PlanOptions{}, [] { PlanOptions p; p.codegen = false; p.parallel = true; return p; }()}) {
    Plan plan(g, o);
    std::vector<Tensor> eager = fn({a, b}), replay = plan.run({a, b});
    CHECK(bitwise_equal(eager[0], replay[0]));
    CHECK(bitwise_equal(eager[1], replay[1]));
    CHECK(diff_replay(g, plan, {a, b}) == "");
    std::string msg = message_of<InvalidArgument>([&] { plan.run({neg(a), b}); });
    CHECK_THAT(msg, Contains("[check_numerics] after log : Tensor had NaN values"));
    CHECK_THAT(msg, Contains("test_numerics_debug.cpp:" + std::to_string(line)));
  }
  auto traced = trace(fn);
  traced({a, b});
  traced({a, b});
  CHECK(traced.stats().replays == 1);
  CHECK_THROWS_AS(traced({neg(a), b}), InvalidArgument);
}

TEST_CASE("check_numerics in a Session graph", "[check_numerics][session]") {
  GraphBuilder b;
  Tensor x = b.placeholder(DType::float32, {2}, "x");
  Tensor y;
  {
    NameScope s("layer");
    // The builder runs ops on zeros: reciprocal(x) would be Inf while building (docs/debugging.md).
    y = check_numerics(reciprocal(x + 1.0f), "layer output");
  }
  Graph g = b.finish({y});
  Session sess(g);
  CHECK(sess.run({"layer/check_numerics"}, {{"x", vec({1.0f, 3.0f})}})[0].to_vector<float>() ==
        std::vector<float>{0.5f, 0.25f});
  CHECK_THAT(message_of<InvalidArgument>([&] { sess.run({"layer/check_numerics"}, {{"x", vec({1.0f, -1.0f})}}); }),
             Contains("layer output : Tensor had Inf values"));
}

TEST_CASE("two checks of one level fail a parallel replay with the check's error", "[check_numerics][plan][threads]") {
  // The two checks are independent steps of one level: with `parallel` they run concurrently
  // (parallel_for), and the error must reach the caller on every path, ThreadSanitizer's included.
  set_num_threads(2);
  auto fn = [](const std::vector<Tensor>& in) {
    return std::vector<Tensor>{check_numerics(in[0] * 2.0f, "left") + check_numerics(in[0] * 3.0f, "right")};
  };
  Tensor x = xf::testing::input({64}, 3);
  Graph g = trace_graph(fn, {x});
  PlanOptions o;
  o.parallel = true;
  o.codegen = false;
  Plan plan(g, o);
  CHECK(bitwise_equal(plan.run({x})[0], fn({x})[0]));
  Tensor bad = where(x > 0.0f, x, kNaN);
  for (int i = 0; i < 5; ++i) {
    std::string msg = message_of<InvalidArgument>([&] { plan.run({bad}); });
    CHECK_THAT(msg, Contains(" : Tensor had NaN values"));
  }
  CHECK(bitwise_equal(plan.run({x})[0], fn({x})[0]));  // the plan still runs after a failed run
  set_num_threads(0);
}

TEST_CASE("parallel_for carries the first exception of a chunk to the caller", "[parallel][threads]") {
  set_num_threads(2);
  std::atomic<int> ran{0};
  try {
    xf::detail::parallel_for(8, 1, [&](int64_t b, int64_t) {
      ++ran;
      if (b == 3) throw OutOfRange("chunk 3");
    });
    FAIL("no exception");
  } catch (const OutOfRange& e) {
    CHECK(std::string(e.what()) == "chunk 3");
  }
  CHECK(ran.load() >= 1);
  set_num_threads(0);
}

// ---- add_check_numerics_ops ----

TEST_CASE("add_check_numerics_ops checks every float value, named after its node", "[check_numerics][passes]") {
  GraphBuilder b;
  Tensor x = b.placeholder(DType::float32, {3}, "x");
  Tensor h, y, k;
  {
    NameScope s("blk");
    h = log(x);
    y = h * 2.0f;
    k = argmax(y, 0);  // int64: no check
  }
  Graph g = b.finish({y, k});
  Graph checked = add_check_numerics_ops(g);
  // x, blk/log, blk/mul: three float values; argmax's int64 output has none.
  CHECK(count_op(checked, "check_numerics") == 3);
  CHECK(checked.provenance.back().pass == "check_numerics");
  Session sess(checked);
  Tensor fine = vec({1.0f, 2.0f, 4.0f});
  std::vector<Tensor> got = Session(g).run({b.value_of(y), b.value_of(k)}, {{b.value_of(x), fine}});
  std::vector<Tensor> out = sess.run({"blk/mul", "blk/argmax"}, {{"x", fine}});
  CHECK(bitwise_equal(out[0], got[0]));
  CHECK(bitwise_equal(out[1], got[1]));
  // Graph outputs read the checked values; the first bad value in graph order is named.
  CHECK_THAT(message_of<InvalidArgument>([&] { checked.run({vec({1.0f, -1.0f, 2.0f})}); }),
             Contains("[check_numerics] blk/log:0 : Tensor had NaN values"));
  CHECK_THAT(message_of<InvalidArgument>([&] { checked.run({vec({1.0f, kInf, 2.0f})}); }),
             Contains("[check_numerics] x:0 : Tensor had Inf values"));
  CHECK_THAT(message_of<InvalidArgument>([&] { sess.run({"blk/mul"}, {{"x", vec({0.0f, 1.0f, 2.0f})}}); }),
             Contains("blk/log:0 : Tensor had Inf values"));
  // Already-checked values are not checked twice.
  CHECK(count_op(add_check_numerics_ops(checked), "check_numerics") == 3 + 3);
}

// ---- the numerics-checking mode ----

TEST_CASE("the mode is off by default and on inside a CheckNumericsScope", "[numerics_mode]") {
  CHECK_FALSE(debug::check_numerics_enabled());
  Tensor x = vec({-1.0f, 4.0f});
  CHECK(std::isnan(log(x).to_vector<float>()[0]));  // off: NaN flows on
  {
    debug::CheckNumericsScope on;
    CHECK(debug::check_numerics_enabled());
    {
      debug::CheckNumericsScope nested;
      CHECK(debug::check_numerics_enabled());
    }
    CHECK(debug::check_numerics_enabled());
    CHECK(sqrt(vec({4.0f})).to_vector<float>() == std::vector<float>{2.0f});
    CHECK(argmax(x, 0).item<int64_t>() == 1);
  }
  CHECK_FALSE(debug::check_numerics_enabled());
}

TEST_CASE("the mode stops eager ops at the first NaN or Inf, naming op, inputs and caller", "[numerics_mode]") {
  Tensor a = vec({1.0f, 0.0f, -2.0f}), b = vec({0.0f, 0.0f, 1.0f});
  debug::CheckNumericsScope on;
  Tensor fine = a + b;
  const int line = __LINE__ + 1;
  std::string msg = message_of<InvalidArgument>([&] { return a / b; });
  CHECK(msg == "[div] numerics check: output 0 (3,) float32 has Inf and NaN values (1 NaN, 1 Inf of 3); inputs: "
               "a (3,) float32 min -2 max 1 NaN 0 Inf 0, b (3,) float32 min 0 max 1 NaN 0 Inf 0 "
               "(test_numerics_debug.cpp:" + std::to_string(line) + ")");
  CHECK_THAT(message_of<InvalidArgument>([&] { return exp(vec({100.0f})); }),
             Contains("[exp] numerics check: output 0 (1,) float32 has Inf values"));
  // Inputs that already hold NaN are summarized as such.
  CHECK_THAT(message_of<InvalidArgument>([&] { return check_numerics(vec({kNaN}), "m"); }),
             Contains("m : Tensor had NaN values"));
  // Integer results are not checked.
  CHECK(cast(vec({2.5f}), DType::int32).item<int32_t>() == 2);
}

TEST_CASE("XFLOW_CHECK_NUMERICS=1 turns the mode on for the process", "[numerics_mode]") {
  // The variable is read once, on first use; forget that reading to read it again.
  auto reread = [](const char* value) {
    if (value) ::setenv("XFLOW_CHECK_NUMERICS", value, 1);
    else ::unsetenv("XFLOW_CHECK_NUMERICS");
    debug::detail::g_numerics_state.store(-1);
    return debug::check_numerics_enabled();
  };
  CHECK(reread("1"));
  CHECK_THROWS_AS(log(vec({-1.0f})), InvalidArgument);
  CHECK_FALSE(reread("0"));
  CHECK_FALSE(reread(nullptr));
  CHECK_NOTHROW(log(vec({-1.0f})));
}

TEST_CASE("the mode checks Graph::run, replays and fused groups by node", "[numerics_mode][plan]") {
  int log_line = 0;
  auto fn = [&log_line](const std::vector<Tensor>& in) {
    Tensor s = in[0] * 2.0f;
    NameScope scope("blk");
    log_line = __LINE__ + 1;
    Tensor l = log(s);
    return std::vector<Tensor>{relu(l + 1.0f) * in[1]};  // relu(NaN) keeps NaN flowing
  };
  Tensor x = abs(xf::testing::input({4, 8}, 1)) + 0.5f, w = xf::testing::input({4, 8}, 2);
  Graph g = trace_graph(fn, {x, w});
  Tensor bad = neg(x);
  std::vector<Tensor> off = g.run({bad, w});  // off: no check
  debug::CheckNumericsScope on;
  const std::string where = "test_numerics_debug.cpp:" + std::to_string(log_line);
  std::string msg = message_of<InvalidArgument>([&] { g.run({bad, w}); });
  CHECK_THAT(msg, Contains("[log] node 1 'blk/log': numerics check: output 0 (4, 8) float32 has NaN values"));
  CHECK_THAT(msg, Contains("; inputs: x (4, 8) float32 min -"));
  CHECK_THAT(msg, Contains(where));
  for (const PlanOptions& o : xf::testing::all_plan_options()) {
    if (o.codegen && !o.fuse) continue;
    INFO(xf::testing::options_str(o));
    Plan plan(g, o);
    CHECK(bitwise_equal(plan.run({x, w})[0], fn({x, w})[0]));
    std::string m = message_of<InvalidArgument>([&] { plan.run({bad, w}); });
    CHECK_THAT(m, Contains("[log] node 1 'blk/log': numerics check"));  // inside the fused group
    CHECK_THAT(m, Contains(where));
  }
  auto traced = trace(fn);
  traced({x, w});
  CHECK_THAT(message_of<InvalidArgument>([&] { traced({bad, w}); }), Contains("[log] "));
}

TEST_CASE("the mode checks Session::run", "[numerics_mode][session]") {
  GraphBuilder b;
  Tensor x = b.placeholder(DType::float32, {2}, "x");
  Tensor y;
  {
    NameScope s("dense");
    y = sqrt(x) + 1.0f;
  }
  Graph g = b.finish({y});
  Session sess(g);
  CHECK(sess.run({"dense/add"}, {{"x", vec({-1.0f, 4.0f})}})[0].to_vector<float>()[1] == 3.0f);  // off
  debug::CheckNumericsScope on;
  std::string msg = message_of<InvalidArgument>([&] { sess.run({"dense/add"}, {{"x", vec({-1.0f, 4.0f})}}); });
  CHECK_THAT(msg, Contains("[sqrt] node 0 'dense/sqrt': numerics check: output 0 (2,) float32 has NaN values"));
  CHECK_THAT(msg, Contains("x (2,) float32 min -1 max 4 NaN 0 Inf 0"));
}

// ---- dump_run ----

namespace {

// Every value of `g` run node by node with the eager kernels, by value id.
std::vector<Tensor> eager_values(const Graph& g, const std::vector<Tensor>& inputs) {
  std::vector<Tensor> env(g.values.size());
  for (size_t i = 0; i < inputs.size(); ++i) env[g.inputs[i]] = inputs[i];
  for (const GraphValue& v : g.values)
    if (v.kind == GraphValue::Kind::constant) env[v.id] = v.constant;
  for (const GraphNode& n : g.nodes) {
    // Run each node as its own one-node graph: the reference interpreter, value by value.
    Graph step;
    std::vector<int> ins;
    for (int v : n.inputs) ins.push_back(step.add_placeholder(g.values[v].dtype, g.values[v].shape, ""));
    std::vector<std::pair<DType, Shape>> outs;
    for (int v : n.outputs) outs.emplace_back(g.values[v].dtype, g.values[v].shape);
    int id = step.add_node(n.op, n.attrs, ins, outs, n.scope, n.file, n.line);
    step.outputs = step.nodes[id].outputs;
    std::vector<Tensor> args;
    for (int v : n.inputs) args.push_back(env[v]);
    std::vector<Tensor> r = step.run(args);
    for (size_t k = 0; k < r.size(); ++k) env[n.outputs[k]] = r[k];
  }
  return env;
}

}  // namespace

TEST_CASE("dump_run writes every value of a plan run, fused intermediates included", "[dump]") {
  auto fn = [](const std::vector<Tensor>& in) {
    NameScope s("net");
    Tensor h = matmul(in[0], in[1]);
    Tensor z = tanh(h * 0.5f) + 1.0f;  // a fused group whose middle values stay in registers
    return std::vector<Tensor>{log(z - 2.5f), sum(z, Axes{1})};
  };
  Tensor a = xf::testing::input({3, 4}, 1), w = xf::testing::input({4, 5}, 2);
  Graph g = trace_graph(fn, {a, w});
  Plan plan(g);
  bool any_fused = false;
  for (const PlanStep& s : plan.steps()) any_fused |= s.fused;
  REQUIRE(any_fused);
  TempDir dir("dump");
  std::vector<Tensor> out = debug::dump_run(plan, {a, w}, dir.path.string());
  std::vector<Tensor> eager = fn({a, w});
  CHECK(bitwise_equal(out[0], eager[0]));
  CHECK(bitwise_equal(out[1], eager[1]));

  std::vector<Tensor> ref = eager_values(g, {a, w});
  std::vector<debug::DumpEntry> index = debug::read_dump_index(dir.path.string());
  REQUIRE(index.size() == g.inputs.size() + g.nodes.size());  // one output per node here
  int fused = 0, with_nan = 0, expected_nan = 0;
  for (const Tensor& t : ref) expected_nan += t.defined() && debug::summarize(t).nan > 0;
  REQUIRE(expected_nan >= 1);  // log(z - 2.5): z is at most 2
  for (const debug::DumpEntry& e : index) {
    INFO(e.name << " " << e.file);
    Tensor t = io::load_npy(dir / e.file);
    CHECK(bitwise_equal(t, ref[static_cast<size_t>(e.value)]));
    CHECK(e.dtype == dtype_name(t.dtype()));
    CHECK(e.shape == t.shape());
    debug::ValueSummary s = debug::summarize(t);
    CHECK(e.stats.nan == s.nan);
    CHECK(e.stats.inf() == s.inf());
    if (s.finite > 0) {
      CHECK(e.stats.min == s.min);
      CHECK(e.stats.max == s.max);
    }
    fused += e.fused;
    with_nan += e.stats.nan > 0;
    if (e.kind == "node") {
      CHECK(e.op == g.nodes[static_cast<size_t>(e.node)].op.name());
      CHECK_THAT(e.source, Contains("test_numerics_debug.cpp:"));
    } else {
      CHECK(e.op == "placeholder");
    }
  }
  CHECK(fused >= 3);
  CHECK(with_nan == expected_nan);
  CHECK(Graph::load(dir / "graph.json").to_json() == g.to_json());

  // NumPy reads the same files and finds the index's statistics.
  std::string script = dir / "check.py";
  std::ofstream(script) << R"PY(
import json, sys
import numpy as np
d = sys.argv[1]
idx = json.load(open(d + "/index.json"))
bad = 0
for e in idx["values"]:
    a = np.load(d + "/" + e["file"])
    ok = list(a.shape) == e["shape"] and str(a.dtype) == e["dtype"] and int(np.isnan(a).sum()) == e["nan"] if a.dtype.kind == "f" else list(a.shape) == e["shape"]
    f = a[np.isfinite(a)] if a.dtype.kind == "f" else a
    if f.size and ok:
        ok = float(f.min()) == e["min"] and float(f.max()) == e["max"]
    bad += not ok
print(len(idx["values"]), bad)
)PY";
  int status = 0;
  std::string got = run_command("/usr/bin/python3 '" + script + "' '" + dir.path.string() + "' 2>&1", &status);
  CHECK(status == 0);
  CHECK(got == std::to_string(index.size()) + " 0\n");
}

TEST_CASE("dump_run of a Session run and `xflow inspect DIR`", "[dump][session][cli]") {
  GraphBuilder b;
  Tensor x = b.placeholder(DType::float32, {2, 3}, "x");
  Tensor y;
  {
    NameScope s("layer");
    y = softmax(x * 2.0f);
  }
  Graph g = b.finish({y});
  Session sess(g);
  Tensor feed = xf::testing::input({2, 3}, 4);
  TempDir dir("dump_session");
  std::vector<Tensor> out = debug::dump_run(sess, {"layer/div"}, {{"x", feed}}, dir.path.string());
  CHECK(bitwise_equal(out[0], sess.run({"layer/div"}, {{"x", feed}})[0]));
  std::vector<debug::DumpEntry> index = debug::read_dump_index(dir.path.string());
  REQUIRE(!index.empty());
  CHECK(index[0].name == "x");
  CHECK(bitwise_equal(io::load_npy(dir / index[0].file), feed));
  Graph ran = Graph::load(dir / "graph.json");
  std::vector<Tensor> ref = eager_values(ran, {feed});
  for (const auto& e : index) CHECK(bitwise_equal(io::load_npy(dir / e.file), ref[static_cast<size_t>(e.value)]));
  CHECK(index.back().name == "layer/div");
  CHECK(bitwise_equal(io::load_npy(dir / index.back().file), out[0]));

  int status = 0;
  std::string table = run_command(std::string("'") + XFLOW_CLI + "' inspect '" + dir.path.string() + "' 2>&1", &status);
  CHECK(status == 0);
  CHECK_THAT(table, Contains("dump: " + dir.path.string() + " (" + std::to_string(index.size()) +
                                      " values, 0 with NaN or Inf; graph.json)"));
  CHECK_THAT(table, Contains("value  name"));
  CHECK_THAT(table, Contains("layer/div"));
  CHECK_THAT(table, Contains(index.back().file));
  std::istringstream lines(table);
  std::string line;
  int rows = 0;
  while (std::getline(lines, line)) ++rows;
  CHECK(rows == static_cast<int>(index.size()) + 2);  // title, header, one row per value

  CHECK_THROWS_AS(debug::dump_run(sess, {"nope"}, {{"x", feed}}, dir.path.string()), NotFound);
  {
    std::ifstream f(dir / "index.json");
    CHECK(nlohmann::json::parse(f).at("error").is_null());
  }
  // A failing run leaves what it computed before the failure, and the error, then rethrows.
  Session checked(add_check_numerics_ops(g));
  TempDir failed("dump_failed");
  Tensor bad = where(feed > 0.0f, feed, kInf);
  CHECK_THROWS_AS(debug::dump_run(checked, {"layer/div"}, {{"x", bad}}, failed.path.string()), InvalidArgument);
  std::vector<debug::DumpEntry> partial = debug::read_dump_index(failed.path.string());
  REQUIRE(partial.size() == 1);  // x itself; its check raised
  CHECK(partial[0].stats.pos_inf > 0);
  std::ifstream f(failed / "index.json");
  CHECK_THAT(nlohmann::json::parse(f).at("error").get<std::string>(), Contains("x:0 : Tensor had Inf values"));
  TempDir empty("dump_empty");
  CHECK_THROWS_AS(debug::read_dump_index(empty.path.string()), NotFound);
  std::ofstream(empty / "index.json") << R"({"values": []})";
  CHECK_THROWS_AS(debug::read_dump_index(empty.path.string()), DataLoss);
}
