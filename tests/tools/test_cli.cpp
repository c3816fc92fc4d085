// The `xflow` command line, run as a user would: --help, dot, inspect, diff, view (its HTTP routes
// and its refusal to serve anything outside the run directory), and the messages and exit codes
// for missing and malformed files. The binary's path comes from meson (XFLOW_CLI).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <thread>

#include "xflow/checkpoint.hpp"
#include "xflow/npy.hpp"
#include "xflow/dot.hpp"
#include "xflow/graph.hpp"
#include "xflow/numerics_dump.hpp"
#include "xflow/plan.hpp"
#include "xflow/trace.hpp"
#include "xflow/xflow.hpp"
#include "temp_files.hpp"

#ifndef XFLOW_CLI
#error "XFLOW_CLI must name the xflow binary"
#endif

namespace fs = std::filesystem;
using namespace xf;

namespace {

using xf::testing::read_bytes_if_any;

struct Result {
  int code = -1;
  std::string out, err;
};

void write(const fs::path& p, const std::string& text) {
  std::ofstream f(p, std::ios::binary);
  f << text;
}

std::string quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

// A fresh directory per test case, removed at the end.
struct TempDir : xf::testing::TempDir {
  TempDir() : xf::testing::TempDir("cli") {}
};

Result run(const TempDir& tmp, const std::string& args) {
  fs::path out = tmp.path / "stdout.txt", err = tmp.path / "stderr.txt";
  std::string cmd = quote(XFLOW_CLI) + " " + args + " >" + quote(out.string()) + " 2>" + quote(err.string());
  int status = std::system(cmd.c_str());
  Result r;
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = read_bytes_if_any(out);
  r.err = read_bytes_if_any(err);
  return r;
}

bool has(const std::string& text, const std::string& what) { return text.find(what) != std::string::npos; }

Tensor input(const Shape& s) {
  std::vector<float> v(static_cast<size_t>(numel(s)));
  for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<float>(i % 7) * 0.25f - 0.5f;
  return Tensor::from_vector(v, s);
}

// dense/{reshape, matmul, add, relu}, then a sum over `axis` at the top level.
Graph model(const Shape& in_shape, int64_t axis, bool extra_layer) {
  return trace_graph([&](const std::vector<Tensor>& in) {
    Tensor h;
    {
      NameScope scope("dense");
      Tensor w = reshape(linspace(-1, 1, in_shape[1] * 4), {in_shape[1], 4});
      h = relu(matmul(in[0], w) + 0.1f);
    }
    if (extra_layer) {
      NameScope scope("extra");
      h = h * 2.0f;
    }
    return std::vector<Tensor>{sum(h, Axes{axis})};
  }, {input(in_shape)});
}

fs::path save(const TempDir& tmp, const Graph& g, const std::string& name) {
  fs::path p = tmp.path / name;
  g.save(p.string());
  return p;
}

// A raw HTTP/1.0 GET on 127.0.0.1, so that paths reach the server exactly as written.
std::pair<int, std::string> http_get(int port, const std::string& target) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  std::string req = "GET " + target + " HTTP/1.0\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
  REQUIRE(::send(fd, req.data(), req.size(), 0) == static_cast<ssize_t>(req.size()));
  std::string resp;
  char buf[4096];
  for (;;) {
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    resp.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  int status = 0;
  std::smatch m;
  if (std::regex_search(resp, m, std::regex("^HTTP/1\\.[01] (\\d+)"))) status = std::stoi(m[1]);
  size_t body = resp.find("\r\n\r\n");
  return {status, body == std::string::npos ? "" : resp.substr(body + 4)};
}

// `xflow view` in the background on a free port; stopped when it goes out of scope.
struct Server {
  pid_t pid = -1;
  int port = 0;
  Server(const TempDir& tmp, const fs::path& run_dir, const fs::path& page)
      : Server(tmp, quote(run_dir.string()), page, "view") {}
  // `xflow view ARGS` (quoted by the caller); `name` names its log and pid files.
  Server(const TempDir& tmp, const std::string& args, const fs::path& page, const std::string& name) {
    fs::path log = tmp.path / (name + ".log");
    fs::path pidfile = tmp.path / (name + ".pid");
    std::string cmd = quote(XFLOW_CLI) + " view " + args + " --port 0 --page " +
                      quote(page.string()) + " >" + quote(log.string()) + " 2>&1 & echo $! >" + quote(pidfile.string());
    REQUIRE(std::system(cmd.c_str()) == 0);
    pid = std::stoi(read_bytes_if_any(pidfile));
    std::smatch m;
    std::regex url("http://127\\.0\\.0\\.1:(\\d+)/");
    for (int i = 0; i < 300 && port == 0; ++i) {  // a guard against hangs: 30 s
      std::string text = read_bytes_if_any(log);
      if (std::regex_search(text, m, url)) port = std::stoi(m[1]);
      else std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    INFO(read_bytes_if_any(log));
    REQUIRE(port > 0);
  }
  ~Server() {
    if (pid > 0) ::kill(pid, SIGTERM);
  }
};

}  // namespace

TEST_CASE("every subcommand has --help; no subcommand is a usage error", "[cli]") {
  TempDir tmp;
  for (const char* sub : {"view", "dot", "inspect", "diff"}) {
    Result r = run(tmp, std::string(sub) + " --help");
    INFO(sub << ": " << r.out << r.err);
    CHECK(r.code == 0);
    CHECK(has(r.out, "Usage"));
  }
  Result top = run(tmp, "--help");
  CHECK(top.code == 0);
  for (const char* sub : {"view", "dot", "inspect", "diff"}) CHECK(has(top.out, sub));
  CHECK(run(tmp, "").code == 2);
  CHECK(run(tmp, "frobnicate").code == 2);
  CHECK(run(tmp, "dot").code == 2);  // GRAPH is required
}

TEST_CASE("dot prints the graph as Graphviz text", "[cli]") {
  TempDir tmp;
  fs::path g = save(tmp, model({16, 8}, 1, false), "g.json");
  Result r = run(tmp, "dot " + quote(g.string()));
  INFO(r.err);
  REQUIRE(r.code == 0);
  CHECK(r.out.rfind("digraph", 0) == 0);
  CHECK(has(r.out, "cluster_"));
  CHECK(has(r.out, "matmul"));
  CHECK(has(r.out, "(16, 4) float32"));
  CHECK(r.out == to_dot(Graph::load(g.string())));
}

TEST_CASE("inspect: nodes, op histogram, parameters, inputs, outputs, guards", "[cli]") {
  TempDir tmp;
  Graph graph = model({16, 8}, 1, false);
  fs::path g = save(tmp, graph, "g.json");
  Result r = run(tmp, "inspect " + quote(g.string()));
  INFO(r.out << r.err);
  REQUIRE(r.code == 0);
  CHECK(has(r.out, "nodes: " + std::to_string(graph.nodes.size()) + "\n"));
  CHECK(std::regex_search(r.out, std::regex("\n  matmul +1\n")));
  CHECK(std::regex_search(r.out, std::regex("\n  relu +1\n")));
  int64_t params = 0;
  for (const GraphValue& v : graph.values)
    if (v.kind == GraphValue::Kind::constant) params += numel(v.shape);
  CHECK(params >= 32);
  CHECK(has(r.out, "parameters: " + std::to_string(params) + " elements"));
  CHECK(has(r.out, "inputs (1):\n  0  input0  (16, 8) float32\n"));
  CHECK(has(r.out, "outputs (1):\n  0  value "));
  CHECK(has(r.out, "(16,) float32  from reduce_sum"));
  CHECK(has(r.out, "guards: none"));
  CHECK(has(r.out, "scopes: dense (4)"));

  Graph guarded = trace_graph([](const std::vector<Tensor>& in) {
    float m = max(in[0]).item<float>();
    return std::vector<Tensor>{in[0] / m};
  }, {input({8})});
  fs::path gg = save(tmp, guarded, "guarded.json");
  Result rg = run(tmp, "inspect " + quote(gg.string()));
  INFO(rg.out << rg.err);
  REQUIRE(rg.code == 0);
  CHECK(has(rg.out, "guards (1):"));
  CHECK(has(rg.out, "read at test_cli.cpp:"));
}

TEST_CASE("diff: added and removed nodes, attribute, shape and input changes", "[cli]") {
  TempDir tmp;
  fs::path a = save(tmp, model({16, 8}, 1, false), "a.json");
  fs::path b = save(tmp, model({32, 8}, 0, true), "b.json");
  Result r = run(tmp, "diff " + quote(a.string()) + " " + quote(b.string()));
  INFO(r.out << r.err);
  REQUIRE(r.code == 0);
  CHECK(has(r.out, "nodes added (1):\n  + extra/mul"));
  CHECK(!has(r.out, "nodes removed"));
  CHECK(has(r.out, "attributes changed (1):\n  ~ reduce_sum: axes [1] -> [0]"));
  CHECK(has(r.out, "~ dense/matmul: (16, 4) float32 -> (32, 4) float32"));
  CHECK(has(r.out, "~ input 0: input0 (16, 8) float32 -> input0 (32, 8) float32"));
  CHECK(has(r.out, "~ output 0: (16,) float32 -> (4,) float32"));
  CHECK(has(r.out, "1 added, 0 removed, 1 attribute changes"));

  Result back = run(tmp, "diff " + quote(b.string()) + " " + quote(a.string()));
  CHECK(has(back.out, "nodes removed (1):\n  - extra/mul"));

  Result same = run(tmp, "diff " + quote(a.string()) + " " + quote(a.string()) + " --exit-code");
  CHECK(same.code == 0);
  CHECK(has(same.out, "no differences"));
  CHECK(run(tmp, "diff " + quote(a.string()) + " " + quote(b.string()) + " --exit-code").code == 3);
}

TEST_CASE("missing and malformed graph files: the library's message and exit code 1", "[cli]") {
  TempDir tmp;
  fs::path missing = tmp.path / "nope.json";
  for (const char* sub : {"dot", "inspect"}) {
    Result r = run(tmp, std::string(sub) + " " + quote(missing.string()));
    CHECK(r.code == 1);
    CHECK(has(r.err, "cannot open '" + missing.string() + "'"));
    CHECK(r.out.empty());
  }
  fs::path good = save(tmp, model({16, 8}, 1, false), "good.json");
  Result rd = run(tmp, "diff " + quote(good.string()) + " " + quote(missing.string()));
  CHECK(rd.code == 1);
  CHECK(has(rd.err, "cannot open"));

  fs::path broken = tmp.path / "broken.json";
  write(broken, "{\"format\": \"xflow.graph\", \"values\": [");
  Result rb = run(tmp, "inspect " + quote(broken.string()));
  CHECK(rb.code == 1);
  CHECK(has(rb.err, broken.string() + ": [graph_json] (document): not valid JSON"));

  std::string text = read_bytes_if_any(good);
  text.replace(text.find("\"op\":\"matmul\""), 13, "\"op\":\"frobnicate\"");
  fs::path bad_op = tmp.path / "bad_op.json";
  write(bad_op, text);
  Result ro = run(tmp, "dot " + quote(bad_op.string()));
  CHECK(ro.code == 1);
  CHECK(has(ro.err, "unknown op 'frobnicate'"));

  Result rdir = run(tmp, "inspect " + quote(tmp.path.string()));
  CHECK(rdir.code == 1);
  CHECK(has(rdir.err, "is a directory"));
}

TEST_CASE("view: a missing run directory is a clear error", "[cli]") {
  TempDir tmp;
  Result r = run(tmp, "view " + quote((tmp.path / "no_such_run").string()) + " --port 0");
  CHECK(r.code == 1);
  CHECK(has(r.err, "run directory '" + (tmp.path / "no_such_run").string() + "' does not exist"));
  write(tmp.path / "file", "x");
  Result f = run(tmp, "view " + quote((tmp.path / "file").string()) + " --port 0");
  CHECK(f.code == 1);
  CHECK(has(f.err, "is not a directory"));
}

TEST_CASE("view serves the page, the run's files and their index, and nothing outside", "[cli]") {
  TempDir tmp;
  fs::path run_dir = tmp.path / "run";
  fs::create_directories(run_dir / "sub");
  save(tmp, model({16, 8}, 1, false), "run/graph.json");
  write(run_dir / "scalars.jsonl", "{\"tag\":\"loss\",\"step\":0,\"wall_time\":1.5,\"value\":0.5}\n");
  write(run_dir / "sub" / "scalars.jsonl", "");
  write(run_dir / ".hidden.json.tmp-1-0", "partial");
  write(tmp.path / "secret.txt", "do not serve");
  fs::create_symlink(tmp.path / "secret.txt", run_dir / "link.txt");
  fs::path page = tmp.path / "page.html";
  write(page, "<!doctype html><title>xflow viewer test page</title>");

  Server server(tmp, run_dir, page);
  auto [s_page, page_body] = http_get(server.port, "/");
  CHECK(s_page == 200);
  CHECK(has(page_body, "xflow viewer test page"));

  auto [s_index, index_body] = http_get(server.port, "/run/index.json");
  CHECK(s_index == 200);
  CHECK(has(index_body, "\"path\":\"graph.json\""));
  CHECK(has(index_body, "\"path\":\"scalars.jsonl\""));
  CHECK(has(index_body, "\"path\":\"sub/scalars.jsonl\""));
  CHECK(!has(index_body, "hidden"));
  CHECK(!has(index_body, "link.txt"));

  auto [s_graph, graph_body] = http_get(server.port, "/run/graph.json");
  CHECK(s_graph == 200);
  CHECK(graph_body == read_bytes_if_any(run_dir / "graph.json"));
  auto [s_sc, sc_body] = http_get(server.port, "/run/scalars.jsonl");
  CHECK(s_sc == 200);
  CHECK(has(sc_body, "\"loss\""));

  for (const char* evil : {"/run/../secret.txt", "/run/%2e%2e/secret.txt", "/run/sub/../../secret.txt",
                           "/run/link.txt", "/run/.hidden.json.tmp-1-0", "/run/%2e%2e%2fsecret.txt",
                           "/run/..%5csecret.txt", "/run//etc/passwd", "/../secret.txt", "/run/nope.json"}) {
    auto [status, body] = http_get(server.port, evil);
    INFO(evil << " -> " << status << " " << body);
    CHECK(status >= 400);
    CHECK(!has(body, "do not serve"));
  }
}

TEST_CASE("view: a folder of TensorBoard event files is served as the viewer's JSON lines", "[cli]") {
  TempDir tmp;
  fs::path run_dir = tmp.path / "run";
  fs::create_directories(run_dir / "tf");
  fs::copy_file(fs::path(XFLOW_TFRECORD_TESTDATA) / "lingvo_events.out.tfevents.test",
                run_dir / "tf" / "events.out.tfevents.1534577086.lingvo");
  fs::path page = tmp.path / "page.html";
  write(page, "<!doctype html><title>page</title>");
  Server server(tmp, run_dir, page);
  auto [s_index, index_body] = http_get(server.port, "/run/index.json");
  CHECK(s_index == 200);
  CHECK(has(index_body, "\"path\":\"tf/scalars.jsonl\""));
  CHECK(has(index_body, "\"path\":\"tf/text.jsonl\""));
  auto [s_sc, sc_body] = http_get(server.port, "/run/tf/scalars.jsonl");
  CHECK(s_sc == 200);
  CHECK(std::count(sc_body.begin(), sc_body.end(), '\n') == 7 * 360);
  CHECK(has(sc_body, "{\"step\":185200,\"tag\":\"bleu/dev\","));
  auto [s_h, h_body] = http_get(server.port, "/run/tf/histograms.jsonl");
  CHECK(s_h == 200);
  CHECK(h_body.empty());
  // Only folders inside the run.
  auto [s_out, out_body] = http_get(server.port, "/run/../run/tf/scalars.jsonl");
  CHECK(s_out >= 400);
  auto [s_none, none_body] = http_get(server.port, "/run/scalars.jsonl");  // no events at the root
  CHECK(s_none == 404);
}

TEST_CASE("view --dump serves a dump's index and files, and refuses what is not a dump", "[cli][dump]") {
  TempDir tmp;
  Graph g = trace_graph([](const std::vector<Tensor>& in) {
    NameScope scope("net");
    return std::vector<Tensor>{log(in[0] * 2.0f - 1.0f)};
  }, {input({2, 3})});
  Plan plan(g);
  fs::path dump = tmp.path / "step_7";
  debug::dump_run(plan, {input({2, 3})}, dump.string());
  fs::path run_dir = tmp.path / "run";
  fs::create_directories(run_dir);
  save(tmp, model({16, 8}, 1, false), "run/graph.json");
  write(tmp.path / "secret.txt", "do not serve");
  fs::path page = tmp.path / "page.html";
  write(page, "<!doctype html><title>page</title>");

  // Not a dump: a missing directory, a folder without an index, an index of another format.
  Result missing = run(tmp, "view --dump " + quote((tmp.path / "nope").string()) + " --port 0");
  CHECK(missing.code == 1);
  CHECK(has(missing.err, "dump directory '" + (tmp.path / "nope").string() + "' does not exist"));
  Result no_index = run(tmp, "view --dump " + quote(run_dir.string()) + " --port 0");
  CHECK(no_index.code == 1);
  CHECK(has(no_index.err, "--dump '" + run_dir.string() + "'"));
  CHECK(has(no_index.err, "index.json"));
  fs::create_directories(tmp.path / "other");
  write(tmp.path / "other" / "index.json", "{\"format\": \"something else\"}");
  Result other = run(tmp, "view --dump " + quote((tmp.path / "other").string()) + " --port 0");
  CHECK(other.code == 1);
  CHECK(has(other.err, "--dump"));
  Result none = run(tmp, "view --port 0");
  CHECK(none.code == 2);
  CHECK(has(none.err, "--dump DUMP_DIR"));

  const std::string index_text = read_bytes_if_any(dump / "index.json");
  auto check_dump_routes = [&](const Server& server) {
    auto [s_index, index_body] = http_get(server.port, "/dump/index.json");
    CHECK(s_index == 200);
    CHECK(index_body == index_text);
    auto [s_graph, graph_body] = http_get(server.port, "/dump/graph.json");
    CHECK(s_graph == 200);
    CHECK(graph_body == read_bytes_if_any(dump / "graph.json"));
    auto [s_npy, npy_body] = http_get(server.port, "/dump/value_0.npy");
    CHECK(s_npy == 200);
    CHECK(npy_body.size() == fs::file_size(dump / "value_0.npy"));
    for (const char* evil : {"/dump/../secret.txt", "/dump/%2e%2e/secret.txt", "/dump/..%2fsecret.txt", "/dump/nope.json"}) {
      auto [status, body] = http_get(server.port, evil);
      INFO(evil << " -> " << status << " " << body);
      CHECK(status == 404);
      CHECK(!has(body, "do not serve"));
    }
  };
  {
    // --dump alone: an empty run listing that names the dump.
    Server server(tmp, "--dump " + quote(dump.string()), page, "dump_only");
    auto [s_run, run_body] = http_get(server.port, "/run/index.json");
    CHECK(s_run == 200);
    CHECK(has(run_body, "\"dump\":\"step_7\""));
    CHECK(has(run_body, "\"files\":[]"));
    check_dump_routes(server);
    auto [s_rg, rg_body] = http_get(server.port, "/run/graph.json");
    CHECK(s_rg == 404);
  }
  {
    // A dump directory given as RUN_DIR is served as --dump.
    Server server(tmp, quote(dump.string()), page, "dump_as_run");
    auto [s_run, run_body] = http_get(server.port, "/run/index.json");
    CHECK(has(run_body, "\"dump\":\"step_7\""));
    check_dump_routes(server);
  }
  {
    // Both: the run's files, and the dump.
    Server server(tmp, quote(run_dir.string()) + " --dump " + quote(dump.string()), page, "both");
    auto [s_run, run_body] = http_get(server.port, "/run/index.json");
    CHECK(has(run_body, "\"path\":\"graph.json\""));
    CHECK(has(run_body, "\"dump\":\"step_7\""));
    auto [s_rg, rg_body] = http_get(server.port, "/run/graph.json");
    CHECK(s_rg == 200);
    CHECK(rg_body == read_bytes_if_any(run_dir / "graph.json"));
    check_dump_routes(server);
  }
  {
    // Without --dump, a run has no dump routes.
    Server server(tmp, run_dir, page);
    auto [s_run, run_body] = http_get(server.port, "/run/index.json");
    CHECK(!has(run_body, "\"dump\""));
    auto [s_d, d_body] = http_get(server.port, "/dump/index.json");
    CHECK(s_d == 404);
  }
}

TEST_CASE("inspect: TensorFlow checkpoints, export directories, .npy and .npz files", "[cli]") {
  TempDir tmp;
  const std::string data = XFLOW_CHECKPOINT_TESTDATA;
  // A directory with a state file: its list and the newest checkpoint's tensors.
  Result r = run(tmp, "inspect " + quote(data + "/tensorflow-onnx-regression_checkpoint") + " --values");
  REQUIRE(r.code == 0);
  CHECK(r.out.find("tensors: 2 (8 bytes of data)") != std::string::npos);
  CHECK(r.out.find("W  float32 []  min 0.213962") != std::string::npos);
  CHECK(r.out.find("b  float32 []  min 1.04953") != std::string::npos);
  // A prefix; a string tensor is listed, not read.
  r = run(tmp, "inspect " + quote(data + "/serving-saved_model_half_plus_two_tf2_cpu/00000123/variables/variables") +
                   " --values");
  REQUIRE(r.code == 0);
  CHECK(r.out.find("_CHECKPOINTABLE_OBJECT_GRAPH  string []  (values of dtype string are not read)") != std::string::npos);
  CHECK(r.out.find("a/.ATTRIBUTES/VARIABLE_VALUE  float32 []  min 0.5") != std::string::npos);
  // A checkpoint written by xflow, then an .npz and an .npy.
  xf::io::BundleWriter w((tmp.path / "ck").string());
  w.add("dense/kernel", xf::Tensor::from_vector(std::vector<float>{1, 2, 3, 6}, {2, 2}));
  w.finish();
  r = run(tmp, "inspect " + quote((tmp.path / "ck").string()) + " --values");
  REQUIRE(r.code == 0);
  CHECK(r.out.find("dense/kernel  float32 [2, 2]  min 1  max 6  mean 3") != std::string::npos);
  xf::io::save_npz((tmp.path / "w.npz").string(),
                   xf::io::NamedTensors{{"a", xf::Tensor::from_vector(std::vector<int32_t>{4, 5}, {2})}});
  r = run(tmp, "inspect " + quote((tmp.path / "w.npz").string()) + " --values");
  REQUIRE(r.code == 0);
  CHECK(r.out.find("a  int32 [2]  min 4  max 5  mean 4.5") != std::string::npos);
  xf::io::save_npy((tmp.path / "x.npy").string(), xf::Tensor::from_vector(std::vector<double>{-1, 1}, {1, 2}));
  r = run(tmp, "inspect " + quote((tmp.path / "x.npy").string()));
  REQUIRE(r.code == 0);
  CHECK(r.out.find("float64 [1, 2]") != std::string::npos);
  // A directory that is none of these, and a damaged .npy: clear errors, exit code 1.
  fs::create_directory(tmp.path / "empty");
  r = run(tmp, "inspect " + quote((tmp.path / "empty").string()));
  CHECK(r.code == 1);
  CHECK(r.err.find("no `checkpoint` state file") != std::string::npos);
  {
    std::ofstream f(tmp.path / "bad.npy", std::ios::binary);
    f << "\x93NUMPY garbage";
  }
  r = run(tmp, "inspect " + quote((tmp.path / "bad.npy").string()));
  CHECK(r.code == 1);
  CHECK(r.err.find("bad.npy") != std::string::npos);
}

