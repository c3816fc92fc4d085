// DOT export: nested scope clusters, every node and edge, escaping, and (when Graphviz is
// installed) that `dot` accepts the output.
#include <catch2/catch.hpp>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>

#include "testing.hpp"
#include "xflow/dot.hpp"
#include "xflow/xflow.hpp"

using namespace xf;

namespace {
using testing::input;

// outer/inner/{matmul, add, relu}, outer/mul, then softmax and a sum at the top level.
std::vector<Tensor> nested(const std::vector<Tensor>& in) {
  Tensor w = reshape(linspace(-1, 1, 12), {4, 3});
  Tensor h;
  {
    NameScope outer("outer");
    {
      NameScope inner("inner");
      h = relu(matmul(in[0], w) + 0.5f);
    }
    h = h * h;
  }
  Tensor y = softmax(h);
  return {y, sum(y, Axes{1})};
}

// What a DOT text says, read back line by line (the format to_dot writes: one statement a line).
struct Parsed {
  std::map<std::string, std::string> node_cluster;  // DOT node id → "outer/inner" ("" at top)
  std::map<std::string, std::string> node_line;
  std::multimap<std::pair<std::string, std::string>, std::string> edges;  // (from, to) → label
  int clusters = 0;
  int max_depth = 0;
};

Parsed parse(const std::string& dot) {
  Parsed p;
  std::vector<std::string> stack;  // cluster labels
  std::istringstream in(dot);
  std::string line;
  std::regex node_re(R"re(^\s*([A-Za-z_][A-Za-z0-9_]*) \[)re");
  std::regex edge_re(R"re(^\s*([A-Za-z0-9_]+) -> ([A-Za-z0-9_]+) \[label="([^"]*)")re");
  std::regex label_re(R"re(^\s*label="(.*)";$)re");
  bool expect_label = false;
  while (std::getline(in, line)) {
    std::smatch m;
    if (line.find("subgraph cluster_") != std::string::npos) {
      ++p.clusters;
      stack.push_back("?");
      p.max_depth = std::max(p.max_depth, static_cast<int>(stack.size()));
      expect_label = true;
    } else if (expect_label && std::regex_search(line, m, label_re)) {
      stack.back() = m[1];
      expect_label = false;
    } else if (line.find_first_not_of(' ') != std::string::npos && line.substr(line.find_first_not_of(' ')) == "}") {
      if (!stack.empty()) stack.pop_back();
    } else if (std::regex_search(line, m, edge_re)) {
      p.edges.emplace(std::make_pair(m[1].str(), m[2].str()), m[3].str());
    } else if (std::regex_search(line, m, node_re) && m[1] != "graph" && m[1] != "node" && m[1] != "edge") {
      std::string path;
      for (const std::string& s : stack) path += (path.empty() ? "" : "/") + s;
      p.node_cluster[m[1]] = path;
      p.node_line[m[1]] = line;
    }
  }
  return p;
}

bool have_dot() { return std::system("command -v dot >/dev/null 2>&1") == 0; }

// Runs `dot -Tsvg` on the text; returns its exit status and puts what it printed on stderr in `err`.
int run_dot(const std::string& text, std::string& err) {
  const std::string base = "test_dot_tmp";
  {
    std::ofstream f(base + ".dot", std::ios::binary);
    f << text;
  }
  int rc = std::system(("dot -Tsvg " + base + ".dot -o " + base + ".svg 2>" + base + ".err").c_str());
  std::ifstream e(base + ".err");
  std::stringstream ss;
  ss << e.rdbuf();
  err = ss.str();
  std::ifstream svg(base + ".svg");
  std::stringstream sv;
  sv << svg.rdbuf();
  if (rc == 0 && sv.str().find("<svg") == std::string::npos) rc = -1;
  for (const char* ext : {".dot", ".svg", ".err"}) std::remove((base + ext).c_str());
  return rc;
}
}  // namespace

TEST_CASE("nested scopes become nested clusters", "[dot]") {
  Graph g = trace_graph(nested, {input({2, 4})});
  std::string dot = to_dot(g);
  INFO(dot);
  CHECK(dot.rfind("digraph xflow {", 0) == 0);
  Parsed p = parse(dot);
  CHECK(p.clusters == 2);
  CHECK(p.max_depth == 2);
  for (const GraphNode& n : g.nodes) {
    std::string id = "n" + std::to_string(n.id);
    REQUIRE(p.node_cluster.count(id));
    std::string expect = n.scope.rfind('/') == std::string::npos ? "" : n.scope.substr(0, n.scope.rfind('/'));
    CHECK(p.node_cluster[id] == expect);
  }
  int in_inner = 0, in_outer = 0;
  for (auto& [id, path] : p.node_cluster) {
    in_inner += path == "outer/inner";
    in_outer += path == "outer";
  }
  CHECK(in_inner >= 3);  // matmul, add, relu (and the constants only they read)
  CHECK(in_outer >= 1);  // mul
  // The weight matrix is read only inside outer/inner, so it is drawn there.
  for (const GraphValue& v : g.values)
    if (v.kind == GraphValue::Kind::constant && v.shape == Shape{4, 3})
      CHECK(p.node_cluster["v" + std::to_string(v.id)] == "outer/inner");
}

TEST_CASE("every node, value and edge is in the DOT text, edges labeled with shape and dtype", "[dot]") {
  Graph g = trace_graph(
      [](const std::vector<Tensor>& in) {
        Tensor sq = in[0] * in[0];  // the same value twice: two edges
        return std::vector<Tensor>{matmul(sq, in[1]), in[0], exp(in[1])};
      },
      {input({2, 4}), input({4, 3})});
  std::string dot = to_dot(g);
  INFO(dot);
  Parsed p = parse(dot);
  CHECK(p.clusters == 0);
  for (const GraphNode& n : g.nodes) {
    std::string id = "n" + std::to_string(n.id);
    REQUIRE(p.node_line.count(id));
    CHECK(p.node_line[id].find("label=\"" + std::string(n.op.name()) + "\"") != std::string::npos);
    std::map<std::string, int> expected;
    for (int v : n.inputs) {
      const GraphValue& val = g.values[v];
      expected[val.kind == GraphValue::Kind::node_output ? "n" + std::to_string(val.producer) : "v" + std::to_string(v)]++;
    }
    for (auto& [from, count] : expected) {
      auto range = p.edges.equal_range({from, id});
      CHECK(std::distance(range.first, range.second) == count);
    }
  }
  size_t edges = 0;
  for (const GraphNode& n : g.nodes) edges += n.inputs.size();
  CHECK(p.edges.size() == edges + g.outputs.size());
  // Edge labels: shape and dtype of the value.
  auto mm = std::find_if(g.nodes.begin(), g.nodes.end(), [](const GraphNode& n) { return n.op == "matmul"; });
  REQUIRE(mm != g.nodes.end());
  auto src = [&](int v) {
    const GraphValue& val = g.values[v];
    return val.kind == GraphValue::Kind::node_output ? "n" + std::to_string(val.producer) : "v" + std::to_string(v);
  };
  auto range = p.edges.equal_range({src(mm->inputs[0]), "n" + std::to_string(mm->id)});
  REQUIRE(range.first != range.second);
  CHECK(range.first->second == "(2, 4) float32");
  range = p.edges.equal_range({src(mm->inputs[1]), "n" + std::to_string(mm->id)});
  REQUIRE(range.first != range.second);
  CHECK(range.first->second == "(4, 3) float32");
  // Placeholders and constants have their own shapes; outputs are marked.
  for (int id : g.inputs) {
    std::string line = p.node_line["v" + std::to_string(id)];
    CHECK(line.find("shape=invhouse") != std::string::npos);
    CHECK(line.find(g.values[id].name) != std::string::npos);
  }
  for (size_t k = 0; k < g.outputs.size(); ++k) {
    std::string out = "out" + std::to_string(k);
    REQUIRE(p.node_line.count(out));
    CHECK(p.node_line[out].find("peripheries=2") != std::string::npos);
  }
  // output 1 is the placeholder itself
  CHECK(p.edges.count({"v" + std::to_string(g.inputs[0]), "out1"}) == 1);
  CHECK(p.node_line["v" + std::to_string(g.inputs[0])].find("penwidth=2") != std::string::npos);
  CHECK(p.node_line["n" + std::to_string(mm->id)].find("penwidth=2") != std::string::npos);

  Graph c = trace_graph([](const std::vector<Tensor>& in) { return std::vector<Tensor>{in[0] * 2.5f}; }, {input({3})});
  std::string cdot = to_dot(c);
  INFO(cdot);
  Parsed cp = parse(cdot);
  int constants = 0;
  for (const GraphValue& v : c.values)
    if (v.kind == GraphValue::Kind::constant) {
      ++constants;
      CHECK(cp.node_line["v" + std::to_string(v.id)].find("shape=note") != std::string::npos);
      CHECK(cp.node_line["v" + std::to_string(v.id)].find("2.5") != std::string::npos);
    }
  CHECK(constants == 1);
}

TEST_CASE("names with quotes, backslashes, newlines and odd bytes are escaped", "[dot]") {
  Graph g = trace_graph(
      [](const std::vector<Tensor>& in) {
        NameScope a("say \"hi\"");
        NameScope b("back\\slash\nnew line");
        return std::vector<Tensor>{exp(in[0])};
      },
      {input({2})});
  g.values[g.inputs[0]].name = std::string("x\"\\n\x01\xff") + "\xc3\xa9";  // quote, backslash, n, ^A, bad byte, é
  std::string dot = to_dot(g);
  INFO(dot);
  CHECK(dot.find("label=\"say \\\"hi\\\"\"") != std::string::npos);
  CHECK(dot.find("label=\"back\\\\slash\\nnew line\"") != std::string::npos);
  CHECK(dot.find("x\\\"\\\\n\\\\x01\\\\xff\xc3\xa9") != std::string::npos);
  CHECK(dot.find('\x01') == std::string::npos);
  CHECK(dot.find('\xff') == std::string::npos);
  // Inside quotes no raw newline: every line is a whole statement.
  std::istringstream in(dot);
  std::string line;
  while (std::getline(in, line)) {
    size_t quotes = 0;
    for (size_t i = 0; i < line.size(); ++i) {
      if (line[i] == '\\') ++i;
      else if (line[i] == '"') ++quotes;
    }
    CHECK(quotes % 2 == 0);
  }
  Parsed p = parse(dot);
  CHECK(p.clusters == 2);
  CHECK(p.max_depth == 2);
  if (have_dot()) {
    std::string err;
    CHECK(run_dot(dot, err) == 0);
    CHECK(err.empty());
  }
}

TEST_CASE("to_dot refuses dangling references", "[dot]") {
  Graph g = trace_graph([](const std::vector<Tensor>& in) { return std::vector<Tensor>{exp(in[0])}; }, {input({2})});
  Graph bad = g;
  bad.outputs.push_back(99);
  CHECK_THROWS_AS(to_dot(bad), InvalidArgument);
  bad = g;
  bad.nodes[0].inputs[0] = -1;
  CHECK_THROWS_AS(to_dot(bad), InvalidArgument);
}

TEST_CASE("Graphviz accepts the output", "[dot]") {
  if (!have_dot()) {
    WARN("Graphviz's dot is not installed: the parse check is skipped");
    return;
  }
  for (auto fn : {nested}) {
    Graph g = trace_graph(fn, {input({2, 4})});
    std::string err;
    CHECK(run_dot(to_dot(g), err) == 0);
    CHECK(err.empty());
  }
  Graph empty;
  std::string err;
  CHECK(run_dot(to_dot(empty), err) == 0);
}
