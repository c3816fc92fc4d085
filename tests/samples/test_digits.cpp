// The digits sample end to end: both models reach 95% test accuracy, traced steps replay, and the
// run directories hold summaries the viewer can read.
#include <catch2/catch.hpp>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "xflow/checkpoint.hpp"
#include "xflow/saved_model.hpp"
#include "xflow/summary.hpp"
#include "xflow/xflow.hpp"
#include "process.hpp"

#ifndef XFLOW_DIGITS
#error "XFLOW_DIGITS must name the digits sample binary"
#endif
#ifndef XFLOW_DIGITS_DATA
#error "XFLOW_DIGITS_DATA must name the data file"
#endif

namespace {
std::string run(const std::string& cmd, int* status) {
  xf::testing::CommandResult r = xf::testing::run_command(cmd);
  *status = r.status;
  return r.output;
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
  // The training set the models read, as a TFRecord file of Examples: 80% of the 1,797 images,
  // each with 64 pixels in [0, 1] and a label 0..9.
  std::vector<std::string> records = xf::io::read_tfrecord_file(runs + "/digits-train.tfrecord");
  CHECK(records.size() == 1437);
  xf::io::FeatureMap spec{{"x", xf::io::FixedLenFeature{{64}, xf::DType::float32, {}}},
                          {"y", xf::io::FixedLenFeature{{}, xf::DType::int64, {}}}};
  for (const std::string& r : records) {
    xf::io::ParsedFeatures p = xf::io::parse_single_example(r, spec);
    std::vector<float> x = p.at("x").tensor().to_vector<float>();
    int64_t y = p.at("y").tensor().item<int64_t>();
    REQUIRE((y >= 0 && y <= 9));
    REQUIRE(*std::min_element(x.begin(), x.end()) >= 0.0f);
    REQUIRE(*std::max_element(x.begin(), x.end()) <= 1.0f);
  }
  std::filesystem::remove_all(runs);
}

TEST_CASE("the digits sample reports a missing data file clearly", "[samples]") {
  int status = 0;
  std::string out = run(std::string(XFLOW_DIGITS) + " --data no/such/file.csv --runs /tmp/unused 2>&1", &status);
  CHECK(status != 0);
  CHECK(out.find("cannot open 'no/such/file.csv'") != std::string::npos);
}

namespace {

// Starts the sample with `args` (output discarded), waits until the checkpoint directory `watch`
// names a checkpoint of at least `min_step`, and kills the process with SIGKILL. Returns whether it
// was killed (rather than finished first).
bool run_and_kill(const std::vector<std::string>& args, const std::string& watch, int64_t min_step) {
  std::vector<char*> argv;
  std::string exe = XFLOW_DIGITS;
  argv.push_back(exe.data());
  std::vector<std::string> copy = args;
  for (auto& a : copy) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = ::fork();
  if (pid == 0) {  // the child: no Catch2 here
    int null = ::open("/dev/null", O_WRONLY);
    ::dup2(null, 1);
    ::dup2(null, 2);
    ::execv(exe.c_str(), argv.data());
    ::_exit(127);
  }
  REQUIRE(pid > 0);
  auto start = std::chrono::steady_clock::now();
  while (std::chrono::steady_clock::now() - start < std::chrono::seconds(120)) {
    int status = 0;
    if (::waitpid(pid, &status, WNOHANG) == pid) return false;  // finished before the kill
    std::string latest = xf::io::latest_checkpoint(watch);
    if (!latest.empty() && std::stoll(latest.substr(latest.rfind('-') + 1)) >= min_step) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ::kill(pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
}

}  // namespace

TEST_CASE("the digits sample killed mid-run resumes from its checkpoints to the same weights, bit for bit",
          "[samples][checkpoint]") {
  char tmpl[] = "/tmp/xflow_digits_ckpt_XXXXXX";
  REQUIRE(::mkdtemp(tmpl) != nullptr);
  const std::string root = tmpl;
  const std::vector<std::string> common = {"--data", XFLOW_DIGITS_DATA, "--epochs", "2", "--save_every", "5",
                                           "--runs", root + "/runs"};
  auto args = [&](const std::string& dir) {
    std::vector<std::string> a = common;
    a.push_back("--checkpoint_dir");
    a.push_back(dir);
    return a;
  };
  auto command = [&](const std::string& dir) {
    std::string c = XFLOW_DIGITS;
    for (const auto& a : args(dir)) c += " '" + a + "'";
    return c + " 2>&1";
  };
  // One run that is never interrupted.
  int status = 0;
  std::string out = run(command(root + "/whole"), &status);
  INFO(out);
  REQUIRE(WIFEXITED(status));
  // The same run killed once in the MLP's training and once in the CNN's, then run to its end.
  CHECK(run_and_kill(args(root + "/broken"), root + "/broken/mlp", 10));
  CHECK(run_and_kill(args(root + "/broken"), root + "/broken/cnn", 10));
  std::string out2 = run(command(root + "/broken"), &status);
  INFO(out2);
  REQUIRE(WIFEXITED(status));
  CHECK(out2.find("resumed from " + root + "/broken/mlp/model.ckpt-44 (step 44)") != std::string::npos);
  CHECK(out2.find("resumed from " + root + "/broken/cnn/model.ckpt-") != std::string::npos);

  for (const char* model : {"mlp", "cnn"}) {
    INFO(model);
    std::string a = xf::io::latest_checkpoint(root + "/whole/" + model);
    std::string b = xf::io::latest_checkpoint(root + "/broken/" + model);
    REQUIRE(!a.empty());
    REQUIRE(!b.empty());
    CHECK(a.substr(a.rfind('/')) == "/model.ckpt-44");  // 22 batches x 2 epochs
    CHECK(b.substr(b.rfind('/')) == "/model.ckpt-44");
    xf::io::BundleReader ra(a), rb(b);
    REQUIRE(ra.entries().size() == rb.entries().size());
    CHECK(ra.contains("global_step"));
    CHECK(ra.contains("Adam/iterations"));
    for (const auto& e : ra.entries()) {
      INFO(e.key);
      REQUIRE(rb.contains(e.key));
      CHECK(xf::bitwise_equal(ra.read(e.key), rb.read(e.key)));
    }
  }
  std::filesystem::remove_all(root);
}

// --export_dir: each model exported for serving; the export, loaded with no model code, classifies
// the data set's images as the trained model does (its accuracy), and a second run adds version 2.
TEST_CASE("the digits sample exports its models; the exports load and classify", "[samples][export]") {
  char tmpl[] = "/tmp/xflow_digits_export_XXXXXX";
  REQUIRE(::mkdtemp(tmpl) != nullptr);
  const std::string root = tmpl;
  const std::string cmd = std::string(XFLOW_DIGITS) + " --data " + XFLOW_DIGITS_DATA + " --epochs 2 --runs " + root +
                          "/runs --export_dir " + root + "/models 2>&1";
  int status = 0;
  std::string out = run(cmd, &status);
  INFO(out);
  REQUIRE(out.find("exported to " + root + "/models/mlp/1") != std::string::npos);
  REQUIRE(out.find("exported to " + root + "/models/cnn/1") != std::string::npos);
  REQUIRE(xf::saved_model_versions(root + "/models/mlp") == std::vector<int64_t>{1});

  // The data file's images (pixels 0..16 scaled to [0, 1], as the sample does) and labels.
  std::vector<std::vector<float>> images;
  std::vector<int64_t> labels;
  {
    FILE* f = std::fopen(XFLOW_DIGITS_DATA, "r");
    REQUIRE(f != nullptr);
    char line[1024];
    while (std::fgets(line, sizeof line, f) && images.size() < 300) {
      if (line[0] == '#') continue;
      std::vector<float> v;
      char* p = line;
      for (int k = 0; k < 65; ++k) {
        v.push_back(std::strtof(p, &p));
        if (*p == ',') ++p;
      }
      labels.push_back(static_cast<int64_t>(v.back()));
      v.pop_back();
      for (float& x : v) x /= 16.0f;
      images.push_back(v);
    }
    std::fclose(f);
  }
  REQUIRE(images.size() == 300);
  for (const char* model : {"mlp", "cnn"}) {
    INFO(model);
    xf::SavedModel sm = xf::load_saved_model(root + "/models/" + model + "/1");
    REQUIRE(sm.signature_names() == std::vector<std::string>{"serving_default"});
    xf::Shape shape = sm.signature("serving_default").inputs.at("x").shape;
    CHECK(shape[0] == -1);  // any batch size
    shape[0] = 1;
    int correct = 0;
    for (size_t i = 0; i < images.size(); ++i) {
      auto r = sm.run("serving_default", {{"x", xf::Tensor::from_vector(images[i], shape)}});
      int64_t cls = r.at("classes").to_vector<int64_t>().at(0);
      std::vector<float> probs = r.at("probabilities").to_vector<float>();
      if (cls == labels[i]) ++correct;
      CHECK(std::max_element(probs.begin(), probs.end()) - probs.begin() == cls);
    }
    CHECK(correct >= 255);  // 85%: two epochs reach about 93% on held-out images
  }
  // Run again: the next version, the first one untouched.
  out = run(cmd, &status);
  CHECK(out.find("exported to " + root + "/models/mlp/2") != std::string::npos);
  CHECK(xf::saved_model_versions(root + "/models/mlp") == std::vector<int64_t>({1, 2}));
  std::filesystem::remove_all(root);
}
