// TensorBoard event files (docs/tfrecord.md): SummaryWriter's tensorboard format read back by
// SummaryReader and by Python's protobuf (tests/summary/event_oracle.py), and a real
// TensorFlow-written event file (lingvo's, ../shared/testdata/tfrecord) read by SummaryReader.
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>

#include "io/event_file.hpp"
#include "xflow/summary.hpp"
#include "xflow/tensor.hpp"
#include "xflow/tfrecord.hpp"
#include "temp_files.hpp"
#include "process.hpp"

#ifndef XFLOW_TFRECORD_TESTDATA
#error "XFLOW_TFRECORD_TESTDATA must be defined"
#endif
#ifndef XFLOW_EVENT_ORACLE
#error "XFLOW_EVENT_ORACLE, XFLOW_PROTO_DIR and XFLOW_PROTOC must be defined"
#endif

using namespace xf;
namespace fs = std::filesystem;

namespace {

using xf::testing::read_bytes_if_any;

using xf::testing::TempDir;

std::vector<nlohmann::json> python_events(const std::string& file) {
  std::string cmd = "/usr/bin/python3 '" XFLOW_EVENT_ORACLE "' '" XFLOW_PROTO_DIR "' '" XFLOW_PROTOC "' '" + file + "' 2>&1";
  xf::testing::CommandResult r = xf::testing::run_command(cmd);
  const std::string& out = r.output;
  INFO(out);
  REQUIRE(r.ok());
  std::vector<nlohmann::json> events;
  std::istringstream lines(out);
  std::string line;
  while (std::getline(lines, line))
    if (!line.empty()) events.push_back(nlohmann::json::parse(line));
  return events;
}

}  // namespace

TEST_CASE("event files: lingvo's TensorFlow-written file gives bleu/dev best step 102600, last step 185200") {
  TempDir tmp;
  const fs::path src = fs::path(XFLOW_TFRECORD_TESTDATA) / "lingvo_events.out.tfevents.test";
  fs::copy_file(src, tmp.path / src.filename());
  // The first event is the file version.
  io::TFRecordReader r(src.string());
  std::string rec;
  REQUIRE(r.read(rec));
  io::events::Event first = io::events::decode_event(rec);
  CHECK(first.file_version == "brain.Event:2");
  CHECK(first.wall_time == 1534577086.0);

  SummaryReader reader(tmp.path.string());
  CHECK(reader.warnings().empty());
  std::map<std::string, int> per_tag;
  const ScalarEvent* best = nullptr;
  const ScalarEvent* last = nullptr;
  for (const ScalarEvent& e : reader.scalars()) {
    ++per_tag[e.tag];
    if (e.tag != "bleu/dev") continue;
    if (!best || e.value > best->value) best = &e;
    if (!last || e.step >= last->step) last = &e;
  }
  REQUIRE(best != nullptr);
  CHECK(best->step == 102600);
  CHECK(last->step == 185200);
  // manifest.json's scalar_tags: seven tags of 360 values each.
  CHECK(per_tag.size() == 7);
  for (const char* tag : {"bleu/dev", "bleu/split:dev", "brevity_penalty/dev", "brevity_penalty/split:dev",
                          "log_perplexity/dev", "log_perplexity/split:dev", "runtime/sentence/sec"})
    CHECK(per_tag[tag] == 360);
}

TEST_CASE("event files: SummaryWriter's tensorboard format, read back by SummaryReader") {
  TempDir tmp;
  std::string event_path;
  {
    SummaryWriter w(tmp.path.string(), SummaryFormat::tensorboard);
    CHECK(w.format() == SummaryFormat::tensorboard);
    event_path = w.event_file();
    w.add_scalar("loss", 1, 0.5);
    w.add_scalar("loss", 2, 0.25);
    w.add_scalar("accuracy/train", 2, 0.875);
    w.add_histogram("weights", 2, Tensor::from_vector(std::vector<float>{1, 2, 2, 3, 10}, {5}), 3);
    w.add_text("notes", 3, "hello **TensorBoard**");
    w.flush();
  }
  // TensorFlow's name: events.out.tfevents.<10-digit seconds>.<host>, no JSON-lines files.
  CHECK(std::regex_match(fs::path(event_path).filename().string(), std::regex(R"(events\.out\.tfevents\.\d{10}\..+)")));
  CHECK_FALSE(fs::exists(tmp.path / "scalars.jsonl"));
  // Every record's CRCs verify; the first event is the file version.
  std::vector<std::string> records = io::read_tfrecord_file(event_path);
  REQUIRE(records.size() == 6);
  CHECK(io::events::decode_event(records[0]).file_version == "brain.Event:2");

  SummaryReader r(tmp.path.string());
  CHECK(r.warnings().empty());
  REQUIRE(r.scalars().size() == 3);
  CHECK(r.scalars()[0].tag == "loss");
  CHECK(r.scalars()[0].step == 1);
  CHECK(r.scalars()[1].value == 0.25);
  CHECK(r.scalars()[2].tag == "accuracy/train");
  CHECK(r.scalars()[2].value == 0.875);
  CHECK(r.scalars()[2].wall_time > 1.6e9);
  REQUIRE(r.histograms().size() == 1);
  const HistogramEvent& h = r.histograms()[0];
  CHECK(h.tag == "weights");
  CHECK(h.count == 5);
  CHECK(h.sum == 18);
  CHECK(h.sum_squares == 118);
  CHECK(h.min == 1);
  CHECK(h.max == 10);
  CHECK(h.bucket_counts == std::vector<int64_t>{4, 0, 1});
  CHECK(h.bucket_edges == std::vector<double>{1, 4, 7, 10});
  REQUIRE(r.texts().size() == 1);
  CHECK(r.texts()[0].text == "hello **TensorBoard**");
  CHECK(r.texts()[0].step == 3);

  // The default stays JSON lines.
  TempDir tmp2;
  SummaryWriter j(tmp2.path.string());
  j.add_scalar("x", 0, 1);
  CHECK(j.event_file().empty());
  CHECK(fs::exists(tmp2.path / "scalars.jsonl"));
}

TEST_CASE("event files: Python's protobuf parses SummaryWriter's events as TensorFlow's") {
  TempDir tmp;
  std::string event_path;
  {
    SummaryWriter w(tmp.path.string(), SummaryFormat::tensorboard);
    event_path = w.event_file();
    w.add_scalar("loss", 7, 1.5);
    w.add_histogram("h", 8, Tensor::from_vector(std::vector<double>{0, 1, 2, 3}, {4}), 2);
    w.add_text("t", 9, "some text");
  }
  auto events = python_events(event_path);
  REQUIRE(events.size() == 4);
  CHECK(events[0]["file_version"] == "brain.Event:2");
  CHECK(events[0]["wall_time"].get<double>() > 1.6e9);
  const auto& s = events[1]["values"][0];
  CHECK(events[1]["step"] == 7);
  CHECK(s["tag"] == "loss");
  CHECK(s["simple_value"].get<double>() == 1.5);
  const auto& h = events[2]["values"][0];
  CHECK(h["tag"] == "h");
  CHECK(h["plugin"] == "histograms");
  CHECK(h["histo"]["num"].get<double>() == 4);
  CHECK(h["histo"]["min"].get<double>() == 0);
  CHECK(h["histo"]["max"].get<double>() == 3);
  CHECK(h["histo"]["sum"].get<double>() == 6);
  CHECK(h["histo"]["sum_squares"].get<double>() == 14);
  CHECK(h["histo"]["bucket_limit"] == nlohmann::json::array({1.5, 3.0}));
  CHECK(h["histo"]["bucket"] == nlohmann::json::array({2.0, 2.0}));
  const auto& t = events[3]["values"][0];
  CHECK(events[3]["step"] == 9);
  CHECK(t["plugin"] == "text");
  CHECK(t["dtype"] == 7);  // DT_STRING
  CHECK(t["rank"] == 0);
  CHECK(t["text"] == nlohmann::json::array({"some text"}));
}

TEST_CASE("event files: a record cut short at the end is skipped, a damaged one is DataLoss") {
  TempDir tmp;
  std::string event_path;
  {
    SummaryWriter w(tmp.path.string(), SummaryFormat::tensorboard);
    event_path = w.event_file();
    w.add_scalar("a", 1, 1);
    w.add_scalar("a", 2, 2);
  }
  std::string bytes = read_bytes_if_any(event_path);
  // A writer that died inside its last write.
  {
    std::ofstream f(event_path, std::ios::binary | std::ios::app);
    std::string next = io::tfrecord_frame(io::events::scalar_event(0, 3, "a", 3));
    f << next.substr(0, next.size() - 5);
  }
  SummaryReader r(tmp.path.string());
  CHECK(r.scalars().size() == 2);
  REQUIRE(r.warnings().size() == 1);
  CHECK(r.warnings()[0].find("skipped a partial last record") != std::string::npos);
  // A flipped bit inside the second scalar's data.
  std::string damaged = bytes;
  damaged[damaged.size() - 8] ^= 0x10;
  {
    std::ofstream f(event_path, std::ios::binary | std::ios::trunc);
    f << damaged;
  }
  r.reload();
  CHECK_THROWS_AS(r.scalars(), DataLoss);
  CHECK_THROWS_WITH(r.texts(), Catch::Contains("corrupted record at"));
  // A record whose CRCs hold but which is not an Event.
  {
    std::ofstream f(event_path, std::ios::binary | std::ios::trunc);
    f << io::tfrecord_frame("\xff\xff\xff");
  }
  r.reload();
  CHECK_THROWS_WITH(r.scalars(), Catch::Contains("not an Event"));
}
