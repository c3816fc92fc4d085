// The digits_queue sample end to end: the training set written as a TFRecord file of Examples,
// read back through string_input_producer -> TFRecordReader -> parse -> shuffle_batch under a
// Coordinator, training the MLP to digits' accuracy and stopping cleanly after its epochs.
#include <catch2/catch.hpp>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <regex>
#include <string>
#include <vector>

#include "xflow/example.hpp"
#include "xflow/tfrecord.hpp"
#include "xflow/xflow.hpp"
#include "process.hpp"

#ifndef XFLOW_DIGITS_QUEUE
#error "XFLOW_DIGITS_QUEUE must name the digits_queue sample binary"
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

TEST_CASE("digits_queue trains the MLP through the TF1 queue pipeline and stops after its epochs", "[samples]") {
  char tmpl[] = "/tmp/xflow_digits_queue_XXXXXX";
  REQUIRE(::mkdtemp(tmpl) != nullptr);
  const std::string runs = tmpl;
  int status = 0;
  std::string out = run(std::string(XFLOW_DIGITS_QUEUE) + " --data " + XFLOW_DIGITS_DATA + " --runs " + runs +
                            " --epochs 12 2>&1",
                        &status);
  INFO(out);
  CHECK(status == 0);
  std::smatch m;
  REQUIRE(std::regex_search(out, m, std::regex("test accuracy: (0\\.[0-9]{3}|1\\.000)")));
  CHECK(std::stod(m[1]) >= 0.95);
  // 12 epochs of 1437 records: every record read, 269 full batches of 64 (the remainder stays).
  CHECK(out.find("done training for 12 epochs, 269 steps (17244 records read)") != std::string::npos);
  CHECK(out.find("epoch 12:") != std::string::npos);

  // The record file is a TFRecord file of Examples with 64 pixels and a label each.
  std::vector<std::string> records = xf::io::read_tfrecord_file(runs + "/digits-queue/train.tfrecord");
  CHECK(records.size() == 1437);
  xf::io::Example first = xf::io::Example::parse(records.at(0));
  CHECK(first.floats("pixels").shape() == xf::Shape{64});
  int64_t label = first.int64s("label").to_vector<int64_t>().at(0);
  CHECK(label >= 0);
  CHECK(label <= 9);
  std::filesystem::remove_all(runs);
}

TEST_CASE("digits_queue reports a missing data file clearly", "[samples]") {
  int status = 0;
  std::string out = run(std::string(XFLOW_DIGITS_QUEUE) + " --data no/such/file.csv --runs /tmp/unused 2>&1", &status);
  CHECK(status != 0);
  CHECK(out.find("cannot open 'no/such/file.csv'") != std::string::npos);
}
