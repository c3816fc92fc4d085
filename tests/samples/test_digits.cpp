// The digits sample end to end: both models reach 95% test accuracy, traced steps replay, and the
// run directories hold summaries the viewer can read.
#include <catch2/catch.hpp>
#include <cstdio>
#include <filesystem>
#include <regex>
#include <string>

#include "xflow/summary.hpp"
#include "xflow/xflow.hpp"

#ifndef XFLOW_DIGITS
#error "XFLOW_DIGITS must name the digits sample binary"
#endif
#ifndef XFLOW_DIGITS_DATA
#error "XFLOW_DIGITS_DATA must name the data file"
#endif

namespace {
std::string run(const std::string& cmd, int* status) {
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  REQUIRE(p != nullptr);
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  *status = pclose(p);
  return out;
}
}  // namespace

TEST_CASE("the digits sample trains an MLP and a CNN to at least 95% test accuracy", "[samples]") {
  std::string runs = std::filesystem::absolute("digits_test_runs").string();
  std::filesystem::remove_all(runs);
  int status = 0;
  std::string out = run(std::string(XFLOW_DIGITS) + " --data " + XFLOW_DIGITS_DATA + " --runs " + runs + " 2>&1", &status);
  INFO(out);
  CHECK(status == 0);
  std::regex acc("test accuracy: (0\\.[0-9]{3}|1\\.000)");
  std::vector<double> accs;
  for (std::sregex_iterator it(out.begin(), out.end(), acc), end; it != end; ++it) accs.push_back(std::stod((*it)[1]));
  REQUIRE(accs.size() == 2);
  CHECK(accs[0] >= 0.95);
  CHECK(accs[1] >= 0.95);
  CHECK(out.find("eager/traced") != std::string::npos);
  for (const char* model : {"digits-mlp", "digits-cnn"}) {
    xf::SummaryReader r(runs + "/" + model);
    CHECK_FALSE(r.scalars().empty());
    CHECK(r.warnings().empty());
    bool has_loss = false;
    for (const auto& s : r.scalars()) has_loss |= s.tag == "loss";
    CHECK(has_loss);
    xf::Graph g = xf::Graph::load(runs + "/" + model + "/graph.json");
    CHECK(g.nodes.size() > 10);
  }
  std::filesystem::remove_all(runs);
}

TEST_CASE("the digits sample reports a missing data file clearly", "[samples]") {
  int status = 0;
  std::string out = run(std::string(XFLOW_DIGITS) + " --data no/such/file.csv --runs /tmp/unused 2>&1", &status);
  CHECK(status != 0);
  CHECK(out.find("cannot open 'no/such/file.csv'") != std::string::npos);
}
