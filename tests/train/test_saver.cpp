// xf::train::Saver: TensorFlow 1's file names, state file, rotation and restore errors; real
// TensorFlow checkpoints restored; and no saved checkpoint lost when the saving process is killed.
#include <catch2/catch.hpp>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "xflow/checkpoint.hpp"
#include "xflow/error.hpp"
#include "xflow/saver.hpp"
#include "xflow/ops.hpp"
#include <nlohmann/json.hpp>
#include "xflow/trace.hpp"
#include "xflow/meta_graph.hpp"
#include "xflow/tensor.hpp"
#include "xflow/variable.hpp"
#include "temp_files.hpp"

namespace fs = std::filesystem;
using xf::Tensor;
using xf::Variable;
using xf::train::Saver;
using xf::train::SaverOptions;

namespace {

using xf::testing::read_bytes_if_any;

std::string testdata() {
  for (const char* p : {"../../../shared/testdata/checkpoint", "../../shared/testdata/checkpoint"})
    if (fs::exists(p)) return fs::absolute(p).lexically_normal().string();
  FAIL("../shared/testdata/checkpoint not found from " << fs::current_path());
  return "";
}

struct TempDir : xf::testing::TempDir {
  TempDir() : xf::testing::TempDir("saver") {}
};

// The files of a directory, sorted.
std::vector<std::string> listing(const std::string& dir) {
  std::vector<std::string> r;
  for (auto& e : fs::directory_iterator(dir)) r.push_back(e.path().filename().string());
  std::sort(r.begin(), r.end());
  return r;
}

bool has_checkpoint_files(const std::string& prefix) {
  return fs::exists(prefix + ".index") && fs::exists(prefix + ".data-00000-of-00001");
}

// Three variables of three dtypes whose values are derived from `step`.
struct Model {
  Variable kernel, bias, count;
  Model()
      : kernel(xf::zeros({16, 8}, xf::DType::float32), "dense1/kernel"),
        bias(xf::zeros({9}, xf::DType::float64), "dense1/bias"),
        count(xf::zeros({}, xf::DType::int64), "global_step", false) {}
  static Tensor kernel_at(int64_t step) {
    std::vector<float> v(16 * 8);
    for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<float>(step) * 0.5f + static_cast<float>(i) / 7.0f;
    return Tensor::from_vector(v, {16, 8});
  }
  static Tensor bias_at(int64_t step) {
    std::vector<double> v(9);
    for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<double>(step) / 3.0 - static_cast<double>(i);
    return Tensor::from_vector(v, {9});
  }
  static Tensor count_at(int64_t step) { return Tensor::from_vector(std::vector<int64_t>{step * 1000 + 7}, {}); }
  void set(int64_t step) const {
    kernel.assign(kernel_at(step));
    bias.assign(bias_at(step));
    count.assign(count_at(step));
  }
  bool is(int64_t step) const {
    return xf::bitwise_equal(kernel.value(), kernel_at(step)) && xf::bitwise_equal(bias.value(), bias_at(step)) &&
           xf::bitwise_equal(count.value(), count_at(step));
  }
};

// A clock the test moves by hand.
struct FakeClock {
  std::shared_ptr<double> t = std::make_shared<double>(1'000'000.0);
  std::function<double()> fn() const {
    auto p = t;
    return [p] { return *p; };
  }
};

}  // namespace

TEST_CASE("save names checkpoints as TensorFlow 1 and writes every variable under its name", "[saver]") {
  xf::reset_variables();
  TempDir d;
  Model m;
  m.set(3);
  Saver saver;  // every global variable
  CHECK(saver.save(d / "model.ckpt", 1000) == d / "model.ckpt-1000");
  CHECK(saver.save(d / "model.ckpt") == d / "model.ckpt");
  SaverOptions padded;
  padded.pad_step_number = true;
  CHECK(Saver(padded).save(d / "model.ckpt", 1000) == d / "model.ckpt-00001000");
  CHECK(has_checkpoint_files(d / "model.ckpt-1000"));
  CHECK(has_checkpoint_files(d / "model.ckpt-00001000"));
  // No .meta without a meta-graph writer; no temporaries left.
  for (const auto& f : listing(d.path)) {
    INFO(f);
    CHECK(f.find(".meta") == std::string::npos);
    CHECK(f.find(".tmp") == std::string::npos);
  }

  xf::io::BundleReader r(d / "model.ckpt-1000");
  std::vector<std::string> keys;
  for (const auto& e : r.entries()) keys.push_back(e.key);
  CHECK(keys == std::vector<std::string>{"dense1/bias", "dense1/kernel", "global_step"});
  CHECK(xf::bitwise_equal(r.read("dense1/kernel"), Model::kernel_at(3)));
  CHECK(xf::bitwise_equal(r.read("dense1/bias"), Model::bias_at(3)));
  CHECK(xf::bitwise_equal(r.read("global_step"), Model::count_at(3)));
  CHECK(r.entry("dense1/kernel").tf_dtype == 1);  // DT_FLOAT
  CHECK(r.entry("dense1/bias").tf_dtype == 2);    // DT_DOUBLE
  CHECK(r.entry("global_step").tf_dtype == 9);    // DT_INT64

  // A map names the keys.
  Saver mapped(std::map<std::string, Variable>{{"w", m.kernel}, {"step", m.count}});
  mapped.save(d / "mapped");
  xf::io::BundleReader r2(d / "mapped");
  CHECK(r2.entries().size() == 2);
  CHECK(r2.contains("w"));
  CHECK(r2.contains("step"));
}

TEST_CASE("save writes the state file last, with TensorFlow's bytes", "[saver]") {
  xf::reset_variables();
  TempDir d;
  Model m;
  SaverOptions o;
  o.max_to_keep = 3;
  Saver abs_saver(o);
  abs_saver.save(d / "model.ckpt", 1);
  abs_saver.save(d / "model.ckpt", 2);
  CHECK(read_bytes_if_any(d / "checkpoint") == "model_checkpoint_path: \"" + d / "model.ckpt-2" +
                                       "\"\nall_model_checkpoint_paths: \"" + d / "model.ckpt-1" +
                                       "\"\nall_model_checkpoint_paths: \"" + d / "model.ckpt-2" + "\"\n");
  fs::create_directory(d / "rel");
  o.save_relative_paths = true;
  o.latest_filename = "state";
  Saver rel(o);
  for (int64_t s : {0, 999, 1000}) rel.save(d / "rel/model.ckpt", s);
  // The tfx trainer's state file, byte for byte.
  CHECK(read_bytes_if_any(d / "rel/state") == read_bytes_if_any(testdata() + "/tfx-trainer_format_serving_ckpt/checkpoint"));
  CHECK_FALSE(fs::exists(d / "rel/checkpoint"));
  CHECK(xf::io::latest_checkpoint(d / "rel", "state") == d / "rel/model.ckpt-1000");
  // write_state false: files, no state change.
  rel.save(d / "rel/model.ckpt", 1001, /*write_state=*/false);
  CHECK(has_checkpoint_files(d / "rel/model.ckpt-1001"));
  CHECK(xf::io::latest_checkpoint(d / "rel", "state") == d / "rel/model.ckpt-1000");
  CHECK(rel.last_checkpoints().size() == 3);
}

TEST_CASE("max_to_keep 2 over 5 saves keeps the newest two, as TensorFlow 1", "[saver]") {
  xf::reset_variables();
  TempDir d;
  Model m;
  SaverOptions o;
  o.max_to_keep = 2;
  Saver saver(o);
  for (int64_t s = 1; s <= 5; ++s) saver.save(d / "model.ckpt", s);
  CHECK(listing(d.path) == std::vector<std::string>{"checkpoint", "model.ckpt-4.data-00000-of-00001",
                                                    "model.ckpt-4.index", "model.ckpt-5.data-00000-of-00001",
                                                    "model.ckpt-5.index"});
  CHECK(saver.last_checkpoints() == std::vector<std::string>{d / "model.ckpt-4", d / "model.ckpt-5"});
  auto st = xf::io::get_checkpoint_state(d.path);
  REQUIRE(st);
  CHECK(st->all_model_checkpoint_paths == saver.last_checkpoints());

  // A prefix saved again moves to the end; the oldest other one goes.
  saver.save(d / "model.ckpt", 4);
  CHECK(saver.last_checkpoints() == std::vector<std::string>{d / "model.ckpt-5", d / "model.ckpt-4"});
  CHECK(has_checkpoint_files(d / "model.ckpt-5"));
  saver.save(d / "model.ckpt", 6);
  CHECK(saver.last_checkpoints() == std::vector<std::string>{d / "model.ckpt-4", d / "model.ckpt-6"});
  CHECK_FALSE(fs::exists(d / "model.ckpt-5.index"));
  CHECK_FALSE(fs::exists(d / "model.ckpt-5.data-00000-of-00001"));
}

TEST_CASE("max_to_keep 0 or negative deletes nothing and lists only the newest", "[saver]") {
  xf::reset_variables();
  TempDir d;
  Model m;
  for (int keep : {0, -1}) {
    INFO("max_to_keep " << keep);
    SaverOptions o;
    o.max_to_keep = keep;
    Saver saver(o);
    std::string dir = d / ("k" + std::to_string(keep + 1));
    fs::create_directory(dir);
    for (int64_t s = 1; s <= 7; ++s) saver.save(dir + "/m", s);
    for (int64_t s = 1; s <= 7; ++s) CHECK(has_checkpoint_files(dir + "/m-" + std::to_string(s)));
    CHECK(saver.last_checkpoints().empty());
    CHECK(read_bytes_if_any(dir + "/checkpoint") ==
          "model_checkpoint_path: \"" + dir + "/m-7\"\nall_model_checkpoint_paths: \"" + dir + "/m-7\"\n");
  }
}

TEST_CASE("keep_checkpoint_every_n_hours keeps a checkpoint per period forever, off the list", "[saver]") {
  xf::reset_variables();
  TempDir d;
  Model m;
  FakeClock clock;
  const double t0 = *clock.t;
  SaverOptions o;
  o.max_to_keep = 2;
  o.keep_checkpoint_every_n_hours = 1;
  o.clock = clock.fn();
  Saver saver(o);  // the first keep time: t0 + 3600
  const std::vector<std::pair<int64_t, double>> saves = {{1, 0},    {2, 1000}, {3, 2000}, {4, 4000},
                                                         {5, 5000}, {6, 8000}, {7, 8100}, {8, 9000}};
  for (auto [step, t] : saves) {
    *clock.t = t0 + t;
    saver.save(d / "model.ckpt", step);
  }
  // 4 (written at +4000 > +3600) and 6 (+8000 > +7200) were kept when they left the list; 1, 2,
  // 3 and 5 were deleted.
  for (int64_t s = 1; s <= 8; ++s) {
    INFO("step " << s);
    bool kept = s == 4 || s == 6 || s == 7 || s == 8;
    CHECK(has_checkpoint_files(d / ("model.ckpt-" + std::to_string(s))) == kept);
  }
  CHECK(saver.last_checkpoints() == std::vector<std::string>{d / "model.ckpt-7", d / "model.ckpt-8"});
}

TEST_CASE("a new Saver picks up the state file's list, so rotation goes on after a restart", "[saver]") {
  xf::reset_variables();
  TempDir d;
  Model m;
  SaverOptions o;
  o.max_to_keep = 2;
  {
    Saver first(o);
    for (int64_t s = 1; s <= 3; ++s) first.save(d / "model.ckpt", s);
  }
  Saver second(o);
  CHECK(second.last_checkpoints().empty());
  second.save(d / "model.ckpt", 4);
  CHECK(second.last_checkpoints() == std::vector<std::string>{d / "model.ckpt-3", d / "model.ckpt-4"});
  CHECK_FALSE(fs::exists(d / "model.ckpt-2.index"));
  CHECK(has_checkpoint_files(d / "model.ckpt-3"));

  // TensorFlow 1's behaviour on request: the old checkpoints are left behind.
  o.resume_from_state = false;
  Saver tf1(o);
  tf1.save(d / "model.ckpt", 5);
  tf1.save(d / "model.ckpt", 6);
  tf1.save(d / "model.ckpt", 7);
  CHECK(has_checkpoint_files(d / "model.ckpt-3"));
  CHECK(has_checkpoint_files(d / "model.ckpt-4"));
  CHECK_FALSE(has_checkpoint_files(d / "model.ckpt-5"));
  CHECK(tf1.last_checkpoints() == std::vector<std::string>{d / "model.ckpt-6", d / "model.ckpt-7"});
}

TEST_CASE("last_checkpoints, set_last_checkpoints_with_time and recover_last_checkpoints", "[saver]") {
  xf::reset_variables();
  TempDir d;
  Model m;
  FakeClock clock;
  SaverOptions o;
  o.max_to_keep = 2;
  o.keep_checkpoint_every_n_hours = 1;
  o.clock = clock.fn();
  Saver saver(o);
  saver.save(d / "a", 1);
  saver.save(d / "b", 1);
  saver.save(d / "c", 1);
  CHECK(saver.last_checkpoints() == std::vector<std::string>{d / "b-1", d / "c-1"});

  Saver other(o);
  other.recover_last_checkpoints({d / "a-1", d / "b-1", d / "nothing", d / "c-1"});
  CHECK(other.last_checkpoints() == std::vector<std::string>{d / "b-1", d / "c-1"});

  // A checkpoint timed after the keep time is kept when it leaves the list.
  other.set_last_checkpoints_with_time({{d / "b-1", *clock.t + 7200}, {d / "c-1", *clock.t}});
  other.save(d / "e", 1);
  CHECK(other.last_checkpoints() == std::vector<std::string>{d / "c-1", d / "e-1"});
  CHECK(has_checkpoint_files(d / "b-1"));
  other.save(d / "f", 1);
  CHECK_FALSE(fs::exists(d / "c-1.index"));
}

TEST_CASE("save refuses what TensorFlow 1 refuses", "[saver]") {
  xf::reset_variables();
  TempDir d;
  Model m;
  Saver saver;
  try {
    saver.save(d / "no/such/dir/model.ckpt", 1);
    FAIL("no error");
  } catch (const xf::InvalidArgument& e) {
    CHECK(std::string(e.what()).find("Parent directory of " + d / "no/such/dir/model.ckpt" +
                                     " doesn't exist, can't save.") != std::string::npos);
  }
  CHECK_THROWS_AS(saver.save(d / "checkpoint"), xf::InvalidArgument);  // collides with the state file
  CHECK(saver.save(d / "checkpoint", 5) == d / "checkpoint-5");        // with a step it does not
  SaverOptions bad;
  bad.latest_filename = "sub/state";
  CHECK_THROWS_AS(Saver(bad).save(d / "m"), xf::InvalidArgument);
  SaverOptions sharded;
  sharded.sharded = true;
  CHECK_THROWS_AS(Saver(sharded), xf::Unimplemented);
  CHECK_THROWS_AS(Saver(std::vector<Variable>{}), xf::InvalidArgument);  // "No variables to save"
  CHECK_THROWS_AS(Saver(std::map<std::string, Variable>{{"a", m.kernel}, {"b", m.kernel}}), xf::InvalidArgument);
  SaverOptions empty;
  empty.allow_empty = true;
  Saver nothing(std::vector<Variable>{}, empty);
  CHECK(nothing.save(d / "empty", 1) == "");
  CHECK_FALSE(fs::exists(d / "empty-1.index"));
  nothing.restore(d / "whatever");  // a no-op, as TensorFlow's empty Saver
  SaverOptions named;
  named.filename = d / "default";
  CHECK(Saver(named).save("", 2) == d / "default-2");
}

TEST_CASE("restore brings every variable back bit-exactly", "[saver]") {
  xf::reset_variables();
  TempDir d;
  Model m;
  m.set(11);
  Saver saver;
  std::string p = saver.save(d / "model.ckpt", 11);
  m.set(12);
  REQUIRE(m.is(12));
  saver.restore(p);
  CHECK(m.is(11));
  m.set(13);
  saver.restore(xf::io::latest_checkpoint(d.path));
  CHECK(m.is(11));
}

TEST_CASE("each restore error has TensorFlow's wording, and a failed restore changes nothing", "[saver]") {
  xf::reset_variables();
  TempDir d;
  Model m;
  m.set(1);
  std::string p = Saver().save(d / "model.ckpt", 1);
  m.set(2);

  auto expect = [&](Saver& s, const std::string& path, xf::ErrorCode code, const std::string& text) {
    try {
      s.restore(path);
      FAIL("no error");
    } catch (const xf::Error& e) {
      INFO(e.what());
      CHECK(e.code() == code);
      CHECK(std::string(e.what()).find(text) != std::string::npos);
    }
    CHECK(m.is(2));  // nothing changed
  };

  Saver all;
  expect(all, "", xf::ErrorCode::invalid_argument, "Can't load save_path when it is None.");
  expect(all, d / "nope", xf::ErrorCode::not_found, "The passed save_path is not a valid checkpoint: " + d / "nope");

  Variable extra(xf::zeros({2}), "dense2/kernel");
  Saver with_extra;  // the global variables now include one the checkpoint lacks
  expect(with_extra, p, xf::ErrorCode::not_found, "Key dense2/kernel not found in checkpoint");
  expect(with_extra, p, xf::ErrorCode::not_found, "a Variable name or other graph key that is missing");

  Variable wrong_shape(xf::zeros({8, 16}), "shape/kernel");
  Saver shape_saver(std::map<std::string, Variable>{{"dense1/bias", m.bias}, {"dense1/kernel", wrong_shape},
                                                    {"global_step", m.count}});
  expect(shape_saver, p, xf::ErrorCode::invalid_argument,
         "Assign requires shapes of both tensors to match. lhs shape= [8,16] rhs shape= [16,8]");

  Variable wrong_dtype(xf::zeros({9}, xf::DType::float32), "dtype/bias");
  Saver dtype_saver(std::map<std::string, Variable>{{"dense1/bias", wrong_dtype}, {"dense1/kernel", m.kernel},
                                                    {"global_step", m.count}});
  expect(dtype_saver, p, xf::ErrorCode::invalid_argument,
         "tensor_name = dense1/bias; expected dtype float does not equal original dtype double");
  CHECK(xf::bitwise_equal(wrong_shape.value(), xf::zeros({8, 16})));
  CHECK(xf::bitwise_equal(wrong_dtype.value(), xf::zeros({9}, xf::DType::float32)));

  // One flipped byte in global_step's data (the last key, restored last): DataLoss naming it, and
  // the kernel and bias, read before it, are not assigned either.
  int64_t off = xf::io::BundleReader(p).entry("global_step").offset;
  {
    std::fstream f(p + ".data-00000-of-00001", std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(off);
    char c = 0;
    f.read(&c, 1);
    c ^= 0x10;
    f.seekp(off);
    f.write(&c, 1);
  }
  Saver model_only(std::vector<Variable>{m.kernel, m.bias, m.count});
  expect(model_only, p, xf::ErrorCode::data_loss, "global_step");
}

TEST_CASE("real TensorFlow checkpoints restore into xflow variables of the same names", "[saver]") {
  xf::reset_variables();
  std::string tfx = testdata() + "/tfx-trainer_format_serving_ckpt";
  Variable kernel(xf::zeros({3, 100}), "dnn/hiddenlayer_0/kernel");
  Variable logits_bias(xf::zeros({1}), "dnn/logits/bias");
  Variable step(xf::zeros({}, xf::DType::int64), "global_step", false);
  Saver saver(std::vector<Variable>{kernel, logits_bias, step});
  saver.restore(xf::io::latest_checkpoint(tfx));
  CHECK(step.value().item<int64_t>() == 1000);
  CHECK(logits_bias.value().item<float>() == Approx(-0.0688979402).epsilon(1e-7));
  xf::io::BundleReader r(tfx + "/model.ckpt-1000");
  CHECK(xf::bitwise_equal(kernel.value(), r.read("dnn/hiddenlayer_0/kernel")));

  std::string onnx = testdata() + "/tensorflow-onnx-regression_checkpoint";
  Variable w(xf::zeros({}), "W"), b(xf::zeros({}), "b");
  Saver(std::vector<Variable>{w, b}).restore(xf::io::latest_checkpoint(onnx));
  CHECK(w.value().item<float>() == Approx(0.21396178).epsilon(1e-7));
  CHECK(b.value().item<float>() == Approx(1.04952538).epsilon(1e-7));
}

TEST_CASE("a Saver given a meta-graph writes PREFIX.meta with its settings; without one, none", "[saver]") {
  xf::reset_variables();
  TempDir d;
  Model m;
  // A graph that reads the model's kernel: the meta-graph names it, the Saver adds its settings.
  xf::Graph g = xf::trace_graph(
      [&](const std::vector<Tensor>&) { return std::vector<Tensor>{xf::sum(m.kernel.value())}; }, {});
  auto mg = std::make_shared<xf::train::MetaGraph>(g);
  SaverOptions with_meta;
  with_meta.max_to_keep = 3;
  with_meta.meta_graph = mg;
  Saver saver(with_meta);
  std::string p = saver.save(d / "model.ckpt", 5);
  REQUIRE(std::filesystem::exists(p + ".meta"));
  xf::train::ImportOptions no_bind;
  no_bind.bind = false;
  xf::train::MetaGraph back = xf::train::import_meta_graph(p + ".meta", no_bind);
  auto def = nlohmann::json::parse(back.saver_def());
  CHECK(def.at("max_to_keep") == 3);
  CHECK(def.at("version") == "V2");
  CHECK(back.graph().nodes.size() == g.nodes.size());

  SaverOptions no_meta = with_meta;
  no_meta.write_meta_graph = false;
  std::string q = Saver(no_meta).save(d / "other.ckpt", 6);
  CHECK_FALSE(std::filesystem::exists(q + ".meta"));
  std::string r = Saver().save(d / "third.ckpt", 7);  // no meta-graph given
  CHECK_FALSE(std::filesystem::exists(r + ".meta"));
}

// A child process saves again and again (values derived from the step, the next step after the
// newest checkpoint it finds) and is killed at a random moment; each time the newest checkpoint the
// state file names must restore completely, bit-exactly, to its step's values, and never go back.
TEST_CASE("a process killed while saving never loses the newest saved checkpoint", "[saver][crash]") {
  xf::reset_variables();
  TempDir d;
  Model m;
  std::mt19937 rng(12345);
  // One save takes a few fsyncs (about 35 ms on the CI machine's disk): kill within 0..100 ms.
  std::uniform_int_distribution<int> delay_us(0, 100000);
  const auto start = std::chrono::steady_clock::now();
  int64_t last_step = -1;
  int kills = 0, restored = 0;
  std::set<int64_t> seen_steps;
  for (int iteration = 0; iteration < 300; ++iteration) {
    if (std::chrono::steady_clock::now() - start > std::chrono::seconds(20)) break;
    pid_t pid = ::fork();
    if (pid == 0) {
      // The child: no Catch2 here; any error ends it with status 3.
      try {
        SaverOptions o;
        o.max_to_keep = 3;
        Saver saver(std::vector<Variable>{m.kernel, m.bias, m.count}, o);
        std::string latest = xf::io::latest_checkpoint(d.path);
        int64_t step = latest.empty() ? 0 : std::stoll(latest.substr(latest.rfind('-') + 1)) + 1;
        for (int k = 0; k < 100000; ++k, ++step) {
          m.set(step);
          saver.save(d / "model.ckpt", step);
        }
        ::_exit(0);
      } catch (const std::exception& e) {
        std::ofstream(d / "child_error.txt") << e.what();
        ::_exit(3);
      } catch (...) {
        ::_exit(3);
      }
    }
    REQUIRE(pid > 0);
    std::this_thread::sleep_for(std::chrono::microseconds(delay_us(rng)));
    ::kill(pid, SIGKILL);
    int status = 0;
    REQUIRE(::waitpid(pid, &status, 0) == pid);
    INFO("iteration " << iteration << ": " << read_bytes_if_any(d / "child_error.txt"));
    REQUIRE((WIFSIGNALED(status) || (WIFEXITED(status) && WEXITSTATUS(status) == 0)));
    ++kills;
    std::string latest = xf::io::latest_checkpoint(d.path);
    if (latest.empty()) {
      REQUIRE(last_step == -1);  // nothing saved yet; once saved, never lost
      continue;
    }
    int64_t step = std::stoll(latest.substr(latest.rfind('-') + 1));
    REQUIRE(step >= last_step);
    last_step = step;
    seen_steps.insert(step);
    m.set(-1);
    Saver(std::vector<Variable>{m.kernel, m.bias, m.count}).restore(latest);
    REQUIRE(m.is(step));
    ++restored;
    // Every checkpoint the state file lists is complete.
    auto st = xf::io::get_checkpoint_state(d.path);
    REQUIRE(st);
    for (const auto& p : st->all_model_checkpoint_paths) {
      INFO(p);
      CHECK(xf::io::checkpoint_exists(p));
    }
  }
  INFO(kills << " kills, " << restored << " restores, " << seen_steps.size() << " distinct steps");
  CHECK(kills >= 50);
  CHECK(seen_steps.size() >= 10);
}
