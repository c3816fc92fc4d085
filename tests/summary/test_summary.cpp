// Summaries: the JSON-lines event files and graph files of a run directory, written and read back
// (docs/summaries.md).
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <thread>

#include "xflow/plan.hpp"
#include "xflow/summary.hpp"
#include "xflow/xflow.hpp"

using namespace xf;
namespace fs = std::filesystem;

namespace {

// A fresh directory under the working directory (build/tests), removed at the end of the test.
struct TempDir {
  fs::path path;
  explicit TempDir(const std::string& name) {
    path = fs::current_path() / ("summary_tmp_" + std::to_string(::getpid())) / name;
    fs::remove_all(path);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
    fs::remove(path.parent_path(), ec);  // only when empty
  }
  std::string str() const { return path.string(); }
};

std::string read_text(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

void write_text(const fs::path& p, const std::string& s) {
  std::ofstream f(p, std::ios::binary | std::ios::trunc);
  f << s;
}

std::vector<Tensor> small_net(const std::vector<Tensor>& in) {
  Tensor w = reshape(linspace(-0.5, 0.5, 4 * 3), {4, 3});
  Tensor h = matmul(in[0], w);
  return {tanh(h * 0.5f + 1.0f) * sigmoid(h)};
}

Tensor net_input() {
  std::vector<float> v(8);
  for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<float>(i) * 0.25f - 1.0f;
  return Tensor::from_vector(v, {2, 4});
}

}  // namespace

TEST_CASE("scalars, histograms and text round trip", "[summary]") {
  TempDir dir("roundtrip");
  double before = 0;
  {
    SummaryWriter w(dir.str());
    before = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
    w.add_scalar("loss", 0, 2.5);
    w.add_scalar("loss", 1, 0.1 + 0.2);  // not representable in short decimal: must round trip exactly
    w.add_scalar("accuracy", -3, 1e-300);
    w.add_histogram("weights", 7, Tensor({1.0f, 2.0f, 2.0f, 3.0f, 4.0f}), 3);
    w.add_text("notes", 2, "héllo \"quoted\"\nsecond line\ttab");
    w.flush();
  }
  for (const char* f : {"scalars.jsonl", "histograms.jsonl", "text.jsonl"}) CHECK(fs::exists(dir.path / f));

  SummaryReader r(dir.str());
  CHECK(r.warnings().empty());
  const auto& s = r.scalars();
  REQUIRE(s.size() == 3);
  CHECK(s[0].tag == "loss");
  CHECK(s[0].step == 0);
  CHECK(s[0].value == 2.5);
  CHECK(s[1].value == 0.1 + 0.2);
  CHECK(s[2].tag == "accuracy");
  CHECK(s[2].step == -3);
  CHECK(s[2].value == 1e-300);
  for (const ScalarEvent& e : s) {
    CHECK(e.wall_time >= before - 1);
    CHECK(e.wall_time <= before + 60);
  }

  const auto& h = r.histograms();
  REQUIRE(h.size() == 1);
  CHECK(h[0].tag == "weights");
  CHECK(h[0].step == 7);
  CHECK(h[0].count == 5);
  CHECK(h[0].min == 1.0);
  CHECK(h[0].max == 4.0);
  CHECK(h[0].sum == 12.0);
  CHECK(h[0].sum_squares == 34.0);
  CHECK(h[0].nan_count == 0);
  CHECK(h[0].pos_inf_count == 0);
  CHECK(h[0].neg_inf_count == 0);
  REQUIRE(h[0].bucket_edges == std::vector<double>{1.0, 2.0, 3.0, 4.0});
  CHECK(h[0].bucket_counts == std::vector<int64_t>{1, 2, 2});  // [1,2) [2,3) [3,4]

  const auto& t = r.texts();
  REQUIRE(t.size() == 1);
  CHECK(t[0].tag == "notes");
  CHECK(t[0].step == 2);
  CHECK(t[0].text == "héllo \"quoted\"\nsecond line\ttab");

  // Invalid UTF-8 does not throw: the bytes become U+FFFD and the line stays valid JSON.
  {
    SummaryWriter w(dir.str());
    w.add_text("bytes", 3, std::string("a\xff\xfe") + "b");
  }
  r.reload();
  REQUIRE(r.texts().size() == 2);
  CHECK(r.texts()[1].text == std::string("a\xEF\xBF\xBD\xEF\xBF\xBD") + "b");

  // One JSON object per line, with the documented fields.
  std::istringstream lines(read_text(dir.path / "scalars.jsonl"));
  std::string line;
  int n = 0;
  while (std::getline(lines, line)) {
    auto j = nlohmann::json::parse(line);
    CHECK(j.contains("tag"));
    CHECK(j.contains("step"));
    CHECK(j.contains("wall_time"));
    CHECK(j.contains("value"));
    ++n;
  }
  CHECK(n == 3);
}

TEST_CASE("histograms of integer, constant, empty and default-binned tensors", "[summary]") {
  TempDir dir("histkinds");
  {
    SummaryWriter w(dir.str());
    w.add_histogram("ints", 0, arange(10));                // int32, 30 buckets by default
    w.add_histogram("constant", 0, full({4}, 5.0f));       // one distinct value
    w.add_histogram("empty", 0, zeros({0}));
    CHECK_THROWS_AS(w.add_histogram("bad", 0, Tensor({1.0f}), 0), InvalidArgument);
    CHECK_THROWS_AS(w.add_histogram("undefined", 0, Tensor()), InvalidArgument);
    CHECK_THROWS_AS(w.add_scalar("", 0, 1.0), InvalidArgument);
  }
  SummaryReader r(dir.str());
  const auto& h = r.histograms();
  REQUIRE(h.size() == 3);
  CHECK(h[0].count == 10);
  CHECK(h[0].bucket_edges.size() == 31);
  CHECK(h[0].bucket_counts.size() == 30);
  CHECK(h[0].bucket_edges.front() == 0.0);
  CHECK(h[0].bucket_edges.back() == 9.0);
  CHECK(h[0].sum == 45.0);
  for (size_t i = 1; i < h[0].bucket_edges.size(); ++i) CHECK(h[0].bucket_edges[i] >= h[0].bucket_edges[i - 1]);

  CHECK(h[1].count == 4);
  CHECK(h[1].min == 5.0);
  CHECK(h[1].max == 5.0);
  REQUIRE(h[1].bucket_edges.size() == 31);
  CHECK(h[1].bucket_edges.front() < 5.0);
  CHECK(h[1].bucket_edges.back() > 5.0);
  int64_t total = 0;
  for (int64_t c : h[1].bucket_counts) total += c;
  CHECK(total == 4);

  CHECK(h[2].count == 0);
  CHECK(std::isnan(h[2].min));
  CHECK(std::isnan(h[2].max));
  CHECK(h[2].bucket_edges.empty());
  CHECK(h[2].bucket_counts.empty());
}

TEST_CASE("NaN and Inf are written as strings and read back", "[summary]") {
  TempDir dir("nonfinite");
  const double inf = HUGE_VAL;
  {
    SummaryWriter w(dir.str());
    w.add_scalar("x", 0, std::nan(""));
    w.add_scalar("x", 1, inf);
    w.add_scalar("x", 2, -inf);
    w.add_histogram("h", 0, Tensor({1.0f, std::nanf(""), 3.0f, HUGE_VALF, -HUGE_VALF, HUGE_VALF, 2.0f}), 2);
    w.add_histogram("all_nan", 0, Tensor({std::nanf(""), std::nanf("")}));
  }
  std::string text = read_text(dir.path / "scalars.jsonl");
  CHECK(text.find("\"nan\"") != std::string::npos);
  CHECK(text.find("\"inf\"") != std::string::npos);
  CHECK(text.find("\"-inf\"") != std::string::npos);
  CHECK(text.find("NaN") == std::string::npos);
  CHECK(text.find("Infinity") == std::string::npos);

  SummaryReader r(dir.str());
  const auto& s = r.scalars();
  REQUIRE(s.size() == 3);
  CHECK(std::isnan(s[0].value));
  CHECK(s[1].value == inf);
  CHECK(s[2].value == -inf);

  const auto& h = r.histograms();
  REQUIRE(h.size() == 2);
  CHECK(h[0].count == 3);
  CHECK(h[0].nan_count == 1);
  CHECK(h[0].pos_inf_count == 2);
  CHECK(h[0].neg_inf_count == 1);
  CHECK(h[0].min == 1.0);
  CHECK(h[0].max == 3.0);
  CHECK(h[0].sum == 6.0);
  CHECK(h[0].bucket_edges == std::vector<double>{1.0, 2.0, 3.0});
  CHECK(h[0].bucket_counts == std::vector<int64_t>{1, 2});
  CHECK(h[1].count == 0);
  CHECK(h[1].nan_count == 2);
  CHECK(std::isnan(h[1].min));
  CHECK(h[1].bucket_counts.empty());
  // Every line is strict JSON.
  std::istringstream lines(read_text(dir.path / "histograms.jsonl"));
  std::string line;
  while (std::getline(lines, line)) CHECK_NOTHROW(nlohmann::json::parse(line));
}

TEST_CASE("many lines, and a second writer appends to the same run", "[summary]") {
  TempDir dir("many");
  const int n = 5000;
  {
    SummaryWriter w(dir.str());
    for (int i = 0; i < n; ++i) w.add_scalar("loss", i, 1.0 / (i + 1));
  }
  {
    SummaryWriter w(dir.str());  // an existing directory: appends, never truncates
    w.add_scalar("loss", n, -1.0);
  }
  SummaryReader r(dir.str());
  const auto& s = r.scalars();
  REQUIRE(s.size() == static_cast<size_t>(n + 1));
  for (int i = 0; i < n; ++i) {
    REQUIRE(s[i].step == i);
    REQUIRE(s[i].value == 1.0 / (i + 1));
  }
  CHECK(s[n].value == -1.0);
  CHECK(r.warnings().empty());
  CHECK(r.histograms().empty());  // no file: no events, no warning
  CHECK(r.texts().empty());
}

TEST_CASE("a truncated last line is skipped with a warning", "[summary]") {
  TempDir dir("truncated");
  {
    SummaryWriter w(dir.str());
    for (int i = 0; i < 10; ++i) w.add_scalar("loss", i, i * 0.5);
    w.add_text("t", 0, "complete");
    w.add_text("t", 1, "this line will be cut");
  }
  fs::path scalars = dir.path / "scalars.jsonl";
  std::string full = read_text(scalars);
  // Cut the file inside its last line (as a crash during the write would).
  size_t last_start = full.rfind('\n', full.size() - 2) + 1;
  size_t cut = last_start + 17;
  fs::resize_file(scalars, cut);
  fs::path text = dir.path / "text.jsonl";
  std::string tfull = read_text(text);
  fs::resize_file(text, tfull.size() - 1);  // only the newline is missing

  SummaryReader r(dir.str());
  REQUIRE(r.scalars().size() == 9);
  CHECK(r.scalars().back().step == 8);
  REQUIRE(r.texts().size() == 1);
  CHECK(r.texts()[0].text == "complete");
  REQUIRE(r.warnings().size() == 2);
  CHECK(r.warnings()[0] == "scalars.jsonl: skipped a partial last line (17 bytes)");
  CHECK(r.warnings()[1].find("text.jsonl: skipped a partial last line") == 0);

  // A writer opened after the crash ends the partial line and marks it, so the lines before and
  // after it stay readable and the reader still says what it skipped.
  {
    SummaryWriter w(dir.str());
    w.add_scalar("loss", 100, 1.0);
    w.add_scalar("loss", 101, 2.0);
  }
  SummaryReader r2(dir.str());
  REQUIRE(r2.scalars().size() == 11);
  CHECK(r2.scalars()[8].step == 8);
  CHECK(r2.scalars()[9].step == 100);
  CHECK(r2.scalars()[10].step == 101);
  REQUIRE(r2.texts().size() == 1);  // text.jsonl was not reopened: still a partial last line
  REQUIRE(r2.warnings().size() == 2);
  CHECK(r2.warnings()[0] == "scalars.jsonl line 10: skipped a partial line left by a crashed writer (17 bytes)");
  CHECK(r2.warnings()[1].find("text.jsonl: skipped a partial last line") == 0);
  {
    SummaryWriter w(dir.str());
    w.add_text("t", 2, "after");
  }
  // Only the newline of that text line was missing: once ended, it is a whole event again.
  SummaryReader r3(dir.str());
  REQUIRE(r3.texts().size() == 3);
  CHECK(r3.texts()[1].text == "this line will be cut");
  CHECK(r3.texts()[2].text == "after");
  CHECK(r3.warnings().size() == 1);
}

TEST_CASE("a corrupt line in the middle raises DataLoss naming the file and line", "[summary]") {
  TempDir dir("corrupt");
  {
    SummaryWriter w(dir.str());
    for (int i = 0; i < 5; ++i) w.add_scalar("loss", i, 1.0);
    w.add_text("t", 0, "fine");
  }
  fs::path scalars = dir.path / "scalars.jsonl";
  std::string full = read_text(scalars);
  size_t second = full.find('\n') + 1;
  size_t third = full.find('\n', second) + 1;
  size_t fourth = full.find('\n', third) + 1;
  // Line 3 loses characters in the middle but keeps its newline.
  write_text(scalars, full.substr(0, third) + full.substr(third + 5, fourth - third - 5) + full.substr(fourth));

  SummaryReader r(dir.str());
  CHECK(r.texts().size() == 1);  // the other files still read
  try {
    (void)r.scalars();
    FAIL("expected DataLoss");
  } catch (const DataLoss& e) {
    std::string msg = e.what();
    INFO(msg);
    CHECK(msg.find("scalars.jsonl") != std::string::npos);
    CHECK(msg.find("line 3") != std::string::npos);
  }

  // Valid JSON with a wrong field is corruption too.
  write_text(scalars, full.substr(0, second) + "{\"tag\":\"loss\",\"step\":\"one\",\"wall_time\":0,\"value\":1}\n" +
                          full.substr(third));
  r.reload();
  try {
    (void)r.scalars();
    FAIL("expected DataLoss");
  } catch (const DataLoss& e) {
    std::string msg = e.what();
    INFO(msg);
    CHECK(msg.find("line 2") != std::string::npos);
    CHECK(msg.find("step") != std::string::npos);
  }

  // An empty line in the middle is corruption.
  write_text(scalars, full.substr(0, second) + "\n" + full.substr(second));
  r.reload();
  CHECK_THROWS_AS(r.scalars(), DataLoss);
}

TEST_CASE("two threads writing scalars leave every line intact", "[summary]") {
  TempDir dir("threads");
  const int per_thread = 2000;
  {
    SummaryWriter w(dir.str());
    auto work = [&](const std::string& tag) {
      for (int i = 0; i < per_thread; ++i) w.add_scalar(tag, i, i * 0.001);
    };
    std::thread a(work, "thread_a/with_a_longer_tag_to_make_lines_differ");
    std::thread b(work, "b");
    a.join();
    b.join();
  }
  SummaryReader r(dir.str());
  CHECK(r.warnings().empty());
  const auto& s = r.scalars();
  REQUIRE(s.size() == 2 * per_thread);
  std::map<std::string, std::vector<int64_t>> steps;
  for (const ScalarEvent& e : s) {
    steps[e.tag].push_back(e.step);
    CHECK(e.value == e.step * 0.001);
  }
  REQUIRE(steps.size() == 2);
  for (const auto& [tag, v] : steps) {
    REQUIRE(v.size() == static_cast<size_t>(per_thread));
    for (int i = 0; i < per_thread; ++i) REQUIRE(v[i] == i);  // each thread's lines in its order
  }
}

TEST_CASE("a graph is written atomically and loads with Graph::load", "[summary]") {
  TempDir dir("graph");
  Tensor x = net_input();
  Graph g = trace_graph(small_net, {x});
  {
    SummaryWriter w(dir.str());
    w.add_graph(g);
    w.add_graph(g, "second");
    w.add_graph(g, "second");  // replaced, not appended
    CHECK_THROWS_AS(w.add_graph(g, ""), InvalidArgument);
    CHECK_THROWS_AS(w.add_graph(g, "a/b"), InvalidArgument);
    CHECK_THROWS_AS(w.add_graph(g, ".."), InvalidArgument);
  }
  // No temporary files are left behind.
  std::set<std::string> files;
  for (const auto& e : fs::directory_iterator(dir.path)) files.insert(e.path().filename().string());
  CHECK(files == std::set<std::string>{"graph.json", "second.json"});

  Graph loaded = Graph::load((dir.path / "graph.json").string());
  CHECK(loaded.to_json() == g.to_json());
  CHECK(bitwise_equal(loaded.run({x})[0], g.run({x})[0]));

  SummaryReader r(dir.str());
  CHECK(r.graph_names() == std::vector<std::string>{"graph", "second"});
  CHECK(r.graph("second").to_json() == g.to_json());
  CHECK_THROWS_AS(r.graph("missing"), NotFound);
}

TEST_CASE("a graph with a plan has a profile entry per node and the plan's provenance", "[summary]") {
  TempDir dir("profile");
  Tensor x = net_input();
  Graph g = trace_graph(small_net, {x});
  Plan plan(g);
  {
    SummaryWriter w(dir.str());
    CHECK_THROWS_AS(w.add_graph(g, plan), FailedPrecondition);  // not profiled yet
    plan.set_profiling(true);
    plan.run({x});
    w.add_graph(g, plan, "profiled");
    Graph other = trace_graph([](const std::vector<Tensor>& in) { return std::vector<Tensor>{in[0] + 1.0f}; }, {x});
    CHECK_THROWS_AS(w.add_graph(other, plan, "mismatch"), InvalidArgument);
  }
  nlohmann::json j = nlohmann::json::parse(read_text(dir.path / "profiled.json"));
  REQUIRE(j.contains("profile"));
  const auto& prof = j["profile"];
  REQUIRE(prof["nodes"].size() == g.nodes.size());
  REQUIRE(prof["steps"].size() == plan.steps().size());
  bool any_fused = false;
  double node_seconds = 0, step_seconds = 0;
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    const auto& e = prof["nodes"][i];
    CHECK(e["node"] == i);
    int step = e["step"].get<int>();
    REQUIRE(step >= 0);
    REQUIRE(step < static_cast<int>(plan.steps().size()));
    const PlanStep& s = plan.steps()[static_cast<size_t>(step)];
    CHECK(std::find(s.nodes.begin(), s.nodes.end(), static_cast<int>(i)) != s.nodes.end());
    CHECK(e["fused"] == s.fused);
    any_fused = any_fused || s.fused;
    CHECK(e["seconds"].get<double>() >= 0);
    node_seconds += e["seconds"].get<double>();
    const GraphValue& out = g.values[static_cast<size_t>(g.nodes[i].outputs[0])];
    CHECK(e["output_bytes"] == numel(out.shape) * dtype_size(out.dtype));
    CHECK(e["written_bytes"].get<int64_t>() <= e["output_bytes"].get<int64_t>());
  }
  CHECK(any_fused);  // tanh(h * 0.5 + 1) * sigmoid(h) fuses
  int64_t written = 0;
  for (size_t si = 0; si < plan.steps().size(); ++si) {
    const auto& e = prof["steps"][si];
    CHECK(e["step"] == si);
    CHECK(e["seconds"].get<double>() == plan.profile()[si].seconds);
    CHECK(e["bytes"] == plan.profile()[si].bytes);
    // A fused step names its kernel kind and, when generated, the kernel cache's key.
    const std::string key = plan.kernel_hash(static_cast<int>(si));
    if (plan.steps()[si].fused) {
      CHECK(e["kernel"] == (key.empty() ? "interpreted" : "generated"));
      CHECK(e.contains("kernel_hash") == !key.empty());
      if (!key.empty()) CHECK(e["kernel_hash"] == key);
    } else {
      CHECK_FALSE(e.contains("kernel"));
      CHECK_FALSE(e.contains("kernel_hash"));
    }
    step_seconds += e["seconds"].get<double>();
    written += e["bytes"].get<int64_t>();
  }
  int64_t node_written = 0;
  for (const auto& e : prof["nodes"]) node_written += e["written_bytes"].get<int64_t>();
  CHECK(node_written == written);
  CHECK(node_seconds == Approx(step_seconds));
  CHECK(prof["seconds"].get<double>() == Approx(step_seconds));

  // The plan's provenance is appended to the graph's, and the file still loads as a graph.
  Graph loaded = Graph::load((dir.path / "profiled.json").string());
  auto pp = plan.provenance();
  REQUIRE(loaded.provenance.size() == g.provenance.size() + pp.size());
  bool has_fuse = false;
  for (const GraphProvenance& p : loaded.provenance) has_fuse = has_fuse || p.pass == "fuse";
  CHECK(has_fuse);
  CHECK(bitwise_equal(loaded.run({x})[0], g.run({x})[0]));
}

TEST_CASE("missing or unusable run directories are reported by name", "[summary]") {
  TempDir dir("missing");
  std::string missing = (dir.path / "no" / "such" / "run").string();
  try {
    SummaryReader r(missing);
    FAIL("expected NotFound");
  } catch (const NotFound& e) {
    CHECK(std::string(e.what()).find(missing) != std::string::npos);
  }

  // The writer creates the directory and its parents.
  std::string nested = (dir.path / "a" / "b" / "c").string();
  { SummaryWriter w(nested); }
  CHECK(fs::is_directory(nested));
  CHECK_NOTHROW(SummaryReader(nested));
  CHECK(SummaryReader(nested).graph_names().empty());

  // A file where the run directory should be.
  fs::path file = dir.path / "a_file";
  write_text(file, "x");
  try {
    SummaryWriter w(file.string());
    FAIL("expected FailedPrecondition");
  } catch (const FailedPrecondition& e) {
    CHECK(std::string(e.what()).find(file.string()) != std::string::npos);
  }
  CHECK_THROWS_AS(SummaryReader(file.string()), NotFound);
  // A file where a parent should be.
  try {
    SummaryWriter w((file / "run").string());
    FAIL("expected NotFound");
  } catch (const NotFound& e) {
    CHECK(std::string(e.what()).find((file / "run").string()) != std::string::npos);
  }
}
