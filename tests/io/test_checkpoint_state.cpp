// The `checkpoint` state file: the bytes TensorFlow writes (checked against real TensorFlow state
// files and against Python's text_format run as an oracle), TensorFlow's reading rules, and
// Python's os.path functions the paths go through.
#include <catch2/catch.hpp>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "xflow/checkpoint.hpp"
#include "xflow/error.hpp"
#include "temp_files.hpp"
#include "process.hpp"

namespace fs = std::filesystem;
using xf::io::CheckpointState;

namespace {

using xf::testing::read_bytes;

std::string testdata() {
  // Tests run in build/tests; the shared test data sits beside the repository.
  for (const char* p : {"../../../shared/testdata/checkpoint", "../../shared/testdata/checkpoint"})
    if (fs::exists(p)) return fs::absolute(p).lexically_normal().string();
  FAIL("../shared/testdata/checkpoint not found from " << fs::current_path());
  return "";
}

struct TempDir : xf::testing::TempDir {
  TempDir() : xf::testing::TempDir("ckpt_state") {}
};

// Changes the working directory for one scope (relative-path cases).
struct Chdir {
  std::string old;
  explicit Chdir(const std::string& to) : old(fs::current_path().string()) { fs::current_path(to); }
  ~Chdir() { fs::current_path(old); }
};

void spit(const std::string& p, const std::string& s) {
  std::ofstream f(p, std::ios::binary);
  f << s;
}

std::string run(const std::string& cmd, int* status) {
  xf::testing::CommandResult r = xf::testing::run_command(cmd);
  *status = r.status;
  return r.output;
}

// Python's text_format with a CheckpointState message built from its descriptor (the same fields
// and numbers as TensorFlow's checkpoint_state.proto).
const char* kPythonMessage = R"PY(
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory, text_format
F = descriptor_pb2.FieldDescriptorProto
fdp = descriptor_pb2.FileDescriptorProto(name='checkpoint_state.proto', package='tensorflow', syntax='proto3')
m = fdp.message_type.add(name='CheckpointState')
m.field.add(name='model_checkpoint_path', number=1, type=F.TYPE_STRING, label=F.LABEL_OPTIONAL)
m.field.add(name='all_model_checkpoint_paths', number=2, type=F.TYPE_STRING, label=F.LABEL_REPEATED)
m.field.add(name='all_model_checkpoint_timestamps', number=3, type=F.TYPE_DOUBLE, label=F.LABEL_REPEATED)
m.field.add(name='last_preserved_timestamp', number=4, type=F.TYPE_DOUBLE, label=F.LABEL_OPTIONAL)
pool = descriptor_pool.DescriptorPool()
pool.Add(fdp)
CheckpointState = message_factory.MessageFactory(pool).GetPrototype(
    pool.FindMessageTypeByName('tensorflow.CheckpointState'))
)PY";

std::string python(const TempDir& d, const std::string& body) {
  std::string script = d / "oracle.py";
  spit(script, std::string(kPythonMessage) + body);
  int status = 0;
  std::string out = run("/usr/bin/python3 " + script + " 2>&1", &status);
  INFO(out);
  REQUIRE(status == 0);
  return out;
}

}  // namespace

TEST_CASE("the state file's bytes are TensorFlow's: the tfx file, written with relative paths", "[checkpoint_state]") {
  TempDir d;
  CheckpointState st;
  st.model_checkpoint_path = d / "model.ckpt-1000";
  st.all_model_checkpoint_paths = {d / "model.ckpt-0", d / "model.ckpt-999", d / "model.ckpt-1000"};
  xf::io::update_checkpoint_state(d.path, st, "checkpoint", /*save_relative_paths=*/true);
  const std::string expected =
      "model_checkpoint_path: \"model.ckpt-1000\"\n"
      "all_model_checkpoint_paths: \"model.ckpt-0\"\n"
      "all_model_checkpoint_paths: \"model.ckpt-999\"\n"
      "all_model_checkpoint_paths: \"model.ckpt-1000\"\n";
  CHECK(read_bytes(d / "checkpoint") == expected);
  CHECK(read_bytes(testdata() + "/tfx-trainer_format_serving_ckpt/checkpoint") == expected);
  // Nothing but the state file is left in the directory (no temporary).
  int n = 0;
  for (auto& e : fs::directory_iterator(d.path)) n += e.path().filename() != "oracle.py";
  CHECK(n == 1);
}

TEST_CASE("the model path is appended to the list when it is not its last entry (the onnx file)", "[checkpoint_state]") {
  TempDir d;
  CheckpointState st;
  st.model_checkpoint_path = d / "model";
  xf::io::update_checkpoint_state(d.path, st, "checkpoint", true);
  const std::string expected = "model_checkpoint_path: \"model\"\nall_model_checkpoint_paths: \"model\"\n";
  CHECK(read_bytes(d / "checkpoint") == expected);
  CHECK(read_bytes(testdata() + "/tensorflow-onnx-regression_checkpoint/checkpoint") == expected);

  st.model_checkpoint_path = d / "b";
  st.all_model_checkpoint_paths = {d / "a"};
  xf::io::update_checkpoint_state(d.path, st, "checkpoint", true);
  CHECK(read_bytes(d / "checkpoint") ==
        "model_checkpoint_path: \"b\"\nall_model_checkpoint_paths: \"a\"\nall_model_checkpoint_paths: \"b\"\n");
}

TEST_CASE("absolute paths stay absolute without save_relative_paths (the bad_half_plus_two file)", "[checkpoint_state]") {
  TempDir d;
  CheckpointState st;
  st.model_checkpoint_path = "/tmp/bad_half_plus_two/00000123/export";
  xf::io::update_checkpoint_state(d.path, st, "checkpoint", false);
  CHECK(read_bytes(d / "checkpoint") == read_bytes(testdata() + "/serving-bad_half_plus_two_v1/00000123/checkpoint"));
  // Under the checkpoint's own directory, absolute too.
  st.model_checkpoint_path = d / "model.ckpt-7";
  xf::io::update_checkpoint_state(d.path, st, "checkpoint", false);
  CHECK(read_bytes(d / "checkpoint") == "model_checkpoint_path: \"" + d.path.string() + "/model.ckpt-7\"\nall_model_checkpoint_paths: \"" +
                                       d.path.string() + "/model.ckpt-7\"\n");
}

TEST_CASE("a relative directory gets paths relative to it, as TensorFlow rewrites them", "[checkpoint_state]") {
  TempDir d;
  Chdir cd(d.path);
  fs::create_directory("ckpt");
  CheckpointState st;
  st.model_checkpoint_path = "ckpt/model.ckpt-5";
  st.all_model_checkpoint_paths = {"ckpt/model.ckpt-4", "ckpt/model.ckpt-5"};
  xf::io::update_checkpoint_state("ckpt", st);
  CHECK(read_bytes("ckpt/checkpoint") == "model_checkpoint_path: \"model.ckpt-5\"\n"
                                    "all_model_checkpoint_paths: \"model.ckpt-4\"\n"
                                    "all_model_checkpoint_paths: \"model.ckpt-5\"\n");
  auto back = xf::io::get_checkpoint_state("ckpt");
  REQUIRE(back);
  CHECK(back->model_checkpoint_path == "ckpt/model.ckpt-5");
  CHECK(back->all_model_checkpoint_paths == std::vector<std::string>{"ckpt/model.ckpt-4", "ckpt/model.ckpt-5"});
  // A relative path outside the directory: "../".
  st.model_checkpoint_path = "other/m";
  st.all_model_checkpoint_paths.clear();
  xf::io::update_checkpoint_state("ckpt", st);
  CHECK(read_bytes("ckpt/checkpoint") == "model_checkpoint_path: \"../other/m\"\nall_model_checkpoint_paths: \"../other/m\"\n");
  // No directory at all: the state file lands in the working directory.
  st.model_checkpoint_path = "model";
  xf::io::update_checkpoint_state("", st);
  CHECK(read_bytes("checkpoint") == "model_checkpoint_path: \"model\"\nall_model_checkpoint_paths: \"model\"\n");
  CHECK(xf::io::get_checkpoint_state("")->model_checkpoint_path == "model");
}

TEST_CASE("strings and doubles are printed as Python's text_format prints them", "[checkpoint_state]") {
  TempDir d;
  CheckpointState st;
  st.model_checkpoint_path = std::string("q\"b\\s'\n\t\r\x01\x7f caf\xc3\xa9 ~");
  st.all_model_checkpoint_paths = {"a", st.model_checkpoint_path};
  st.all_model_checkpoint_timestamps = {1.0,    1600000000.25, 1e16,  1.5e-5, 0.0001, 1e-4 * 0.99, -0.0,
                                        0.1,    1234567.125,   1e15,  9.999999999999999e15, 123456789012345678.0,
                                        -2.5e-300, 5e-324,     1.7976931348623157e308};
  st.last_preserved_timestamp = 1733300000.123456;
  std::string body = "c = CheckpointState()\nc.model_checkpoint_path = " +
                     std::string("b'q\"b\\\\s\\'\\n\\t\\r\\x01\\x7f caf\\xc3\\xa9 ~'.decode('utf-8')\n") +
                     "c.all_model_checkpoint_paths.extend(['a', c.model_checkpoint_path])\n"
                     "c.all_model_checkpoint_timestamps.extend([";
  for (double t : st.all_model_checkpoint_timestamps) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "float('%.17g'), ", t);
    body += buf;
  }
  body += "])\nc.last_preserved_timestamp = 1733300000.123456\n"
          "import sys\nsys.stdout.write(text_format.MessageToString(c))\n";
  std::string expected = python(d, body);
  CHECK(xf::io::checkpoint_state_text(st) == expected);
  // And the parser reads it back.
  CheckpointState back = xf::io::parse_checkpoint_state(expected);
  CHECK(back.model_checkpoint_path == st.model_checkpoint_path);
  CHECK(back.all_model_checkpoint_paths == st.all_model_checkpoint_paths);
  REQUIRE(back.all_model_checkpoint_timestamps.size() == st.all_model_checkpoint_timestamps.size());
  for (size_t i = 0; i < back.all_model_checkpoint_timestamps.size(); ++i)
    CHECK(std::signbit(back.all_model_checkpoint_timestamps[i]) == std::signbit(st.all_model_checkpoint_timestamps[i]));
  CHECK(back.all_model_checkpoint_timestamps == st.all_model_checkpoint_timestamps);
  CHECK(back.last_preserved_timestamp == st.last_preserved_timestamp);
}

TEST_CASE("TF2 CheckpointManager fields are written and read", "[checkpoint_state]") {
  TempDir d;
  CheckpointState st;
  st.model_checkpoint_path = d / "ckpt-3";
  st.all_model_checkpoint_paths = {d / "ckpt-2", d / "ckpt-3"};
  st.all_model_checkpoint_timestamps = {1700000000.5, 1700000100.0};
  st.last_preserved_timestamp = 1699999999.0;
  xf::io::update_checkpoint_state(d.path, st, "checkpoint", true);
  CHECK(read_bytes(d / "checkpoint") == "model_checkpoint_path: \"ckpt-3\"\n"
                                   "all_model_checkpoint_paths: \"ckpt-2\"\n"
                                   "all_model_checkpoint_paths: \"ckpt-3\"\n"
                                   "all_model_checkpoint_timestamps: 1700000000.5\n"
                                   "all_model_checkpoint_timestamps: 1700000100.0\n"
                                   "last_preserved_timestamp: 1699999999.0\n");
  auto back = xf::io::get_checkpoint_state(d.path);
  REQUIRE(back);
  CHECK(back->all_model_checkpoint_timestamps == std::vector<double>{1700000000.5, 1700000100.0});
  CHECK(back->last_preserved_timestamp == 1699999999.0);
  // One timestamp per path, or none.
  st.all_model_checkpoint_timestamps = {1.0};
  CHECK_THROWS_AS(xf::io::update_checkpoint_state(d.path, st), xf::InvalidArgument);
}

TEST_CASE("the real TensorFlow state files are read as TensorFlow reads them", "[checkpoint_state]") {
  std::string tfx = testdata() + "/tfx-trainer_format_serving_ckpt";
  auto st = xf::io::get_checkpoint_state(tfx);
  REQUIRE(st);
  CHECK(st->model_checkpoint_path == tfx + "/model.ckpt-1000");
  CHECK(st->all_model_checkpoint_paths ==
        std::vector<std::string>{tfx + "/model.ckpt-0", tfx + "/model.ckpt-999", tfx + "/model.ckpt-1000"});
  CHECK(st->all_model_checkpoint_timestamps.empty());
  CHECK(st->last_preserved_timestamp == 0);
  CHECK(xf::io::latest_checkpoint(tfx) == tfx + "/model.ckpt-1000");
  CHECK(xf::io::checkpoint_exists(tfx + "/model.ckpt-1000"));
  CHECK_FALSE(xf::io::checkpoint_exists(tfx + "/model.ckpt-999"));  // listed, not copied

  std::string onnx = testdata() + "/tensorflow-onnx-regression_checkpoint";
  CHECK(xf::io::latest_checkpoint(onnx) == onnx + "/model");

  // Absolute paths are kept; the files named are not there, so there is no latest checkpoint.
  std::string bad = testdata() + "/serving-bad_half_plus_two_v1/00000123";
  st = xf::io::get_checkpoint_state(bad);
  REQUIRE(st);
  CHECK(st->model_checkpoint_path == "/tmp/bad_half_plus_two/00000123/export");
  CHECK(st->all_model_checkpoint_paths == std::vector<std::string>{"/tmp/bad_half_plus_two/00000123/export"});
  CHECK(xf::io::latest_checkpoint(bad) == "");
}

TEST_CASE("a missing or unparsable state file is no state; an empty model path is an error", "[checkpoint_state]") {
  TempDir d;
  CHECK_FALSE(xf::io::get_checkpoint_state(d.path));
  CHECK(xf::io::latest_checkpoint(d.path) == "");
  for (const char* bad : {"model_checkpoint_path \"x\"\n",          // no colon
                          "model_checkpoint_path: \"x\n",           // unterminated
                          "model_checkpoint_path: x\n",             // not a string
                          "no_such_field: \"x\"\n",                 // unknown field
                          "model_checkpoint_path: \"x\" }",         // stray brace
                          "model_checkpoint_path: \"\\xff\"\n",     // not UTF-8
                          "all_model_checkpoint_timestamps: abc\n",  // not a number
                          "last_preserved_timestamp: [1.0]\n"}) {   // a list for a singular field
    INFO(bad);
    spit(d / "checkpoint", bad);
    CHECK_FALSE(xf::io::get_checkpoint_state(d.path));
    CHECK(xf::io::latest_checkpoint(d.path) == "");
    CHECK_THROWS_AS(xf::io::parse_checkpoint_state(bad), xf::InvalidArgument);
  }
  for (const char* empty : {"", "all_model_checkpoint_paths: \"a\"\n", "model_checkpoint_path: \"\"\n"}) {
    INFO(empty);
    spit(d / "checkpoint", empty);
    try {
      xf::io::get_checkpoint_state(d.path);
      FAIL("no error");
    } catch (const xf::InvalidArgument& e) {
      CHECK(std::string(e.what()) == "Invalid checkpoint state loaded from " + d.path.string());
    }
  }
  // Another file name.
  spit(d / "mystate", "model_checkpoint_path: \"m\"\n");
  CHECK(xf::io::get_checkpoint_state(d.path, "mystate")->model_checkpoint_path == d / "m");
  // The listed prefix has no files: "" (TensorFlow's None); a V1 file or a V2 index makes it one.
  CHECK(xf::io::latest_checkpoint(d.path, "mystate") == "");
  spit(d / "m.index", "");
  CHECK(xf::io::latest_checkpoint(d.path, "mystate") == d / "m");
  fs::remove(d / "m.index");
  spit(d / "m", "");
  CHECK(xf::io::latest_checkpoint(d.path, "mystate") == d / "m");
}

TEST_CASE("the parser accepts what text_format.Merge accepts", "[checkpoint_state]") {
  CheckpointState st = xf::io::parse_checkpoint_state(
      "# a comment\n"
      "all_model_checkpoint_paths: 'a' \"b\"  # adjacent strings join\n"
      "model_checkpoint_path: \"first\";\n"
      "all_model_checkpoint_paths: [\"c\", 'd\\'\\x41\\101\\n']\n"
      "all_model_checkpoint_paths: []\n"
      "model_checkpoint_path: \"last\",\n"
      "all_model_checkpoint_timestamps: [1, -2.5e3, 3f, inf, -Infinity]\n"
      "last_preserved_timestamp: 7\n"
      "last_preserved_timestamp: 8.5\n");
  CHECK(st.model_checkpoint_path == "last");  // Merge: a singular field given twice keeps the last
  CHECK(st.all_model_checkpoint_paths == std::vector<std::string>{"ab", "c", "d'AA\n"});
  REQUIRE(st.all_model_checkpoint_timestamps.size() == 5);
  CHECK(st.all_model_checkpoint_timestamps[0] == 1);
  CHECK(st.all_model_checkpoint_timestamps[1] == -2500);
  CHECK(st.all_model_checkpoint_timestamps[2] == 3);
  CHECK(std::isinf(st.all_model_checkpoint_timestamps[3]));
  CHECK(st.all_model_checkpoint_timestamps[4] < 0);
  CHECK(st.last_preserved_timestamp == 8.5);
  CHECK(xf::io::parse_checkpoint_state("model_checkpoint_path: \"caf\\303\\251\"").model_checkpoint_path ==
        "caf\xc3\xa9");
  try {
    xf::io::parse_checkpoint_state("model_checkpoint_path: \"a\"\nbogus: 1\n");
    FAIL("no error");
  } catch (const xf::InvalidArgument& e) {
    INFO(e.what());
    CHECK(std::string(e.what()).find("2:1 ") != std::string::npos);
    CHECK(std::string(e.what()).find("bogus") != std::string::npos);
  }
}

TEST_CASE("the parser agrees with Python's text_format.Merge", "[checkpoint_state]") {
  TempDir d;
  const std::vector<std::string> inputs = {
      "model_checkpoint_path: \"m\"\nall_model_checkpoint_paths: [\"a\",\"b\"]\n",
      "model_checkpoint_path:'x\\ty' all_model_checkpoint_paths:\"z\";all_model_checkpoint_paths:'w',",
      "all_model_checkpoint_timestamps: [1e3, .5, 2., 3f, -inff, nan]\nmodel_checkpoint_path: \"q\"",
      "model_checkpoint_path: \"\\303\\251\\u00e9\"",  // bytes C3 A9 E9: not UTF-8
      "model_checkpoint_path: \"a\" \"b\" 'c'\n# trailing comment",
      "last_preserved_timestamp: 1 last_preserved_timestamp: 2",
      "model_checkpoint_path: 'unterminated",
      "model_checkpoint_path \"m\"",
      "all_model_checkpoint_paths: [\"a\" \"b\"]",
      "all_model_checkpoint_paths: [\"a\",]",
      "all_model_checkpoint_timestamps: 1.5.5",
      "all_model_checkpoint_timestamps: 0x10",
      "model_checkpoint_path: \"\\q\"",
  };
  std::string body = "import sys, json\nres = []\nfor t in json.load(open(sys.argv[1] if len(sys.argv) > 1 else '" +
                     d / "in.json" + "')):\n"
                     "  c = CheckpointState()\n"
                     "  try:\n"
                     "    text_format.Merge(t, c)\n"
                     "    res.append([True, c.model_checkpoint_path, list(c.all_model_checkpoint_paths), "
                     "[repr(x) for x in c.all_model_checkpoint_timestamps], repr(c.last_preserved_timestamp)])\n"
                     "  except Exception as e:\n"
                     "    res.append([False])\n"
                     "for r in res:\n"
                     "  print(r[0] and json.dumps(r[1:]) or 'error')\n";
  // The inputs as a JSON list of strings.
  std::string json = "[";
  for (size_t i = 0; i < inputs.size(); ++i) {
    json += i ? "," : "";
    json += "\"";
    for (char c : inputs[i]) {
      if (c == '"' || c == '\\') json += '\\';
      if (c == '\n') {
        json += "\\n";
        continue;
      }
      json += c;
    }
    json += "\"";
  }
  spit(d / "in.json", json + "]");
  std::string out = python(d, body);
  std::istringstream lines(out);
  for (const auto& in : inputs) {
    std::string want;
    std::getline(lines, want);
    INFO(in << "\npython: " << want);
    std::string got;
    try {
      CheckpointState st = xf::io::parse_checkpoint_state(in);
      // The same JSON as Python's json.dumps of [path, [paths], [repr(ts)], repr(last)].
      auto q = [](const std::string& s) {
        std::string r = "\"";
        for (unsigned char c : s) {
          if (c == '"' || c == '\\') r += '\\', r += static_cast<char>(c);
          else if (c == '\n') r += "\\n";
          else if (c == '\t') r += "\\t";
          else r += static_cast<char>(c);  // the inputs are ASCII
        }
        return r + "\"";
      };
      got = "[" + q(st.model_checkpoint_path) + ", [";
      for (size_t i = 0; i < st.all_model_checkpoint_paths.size(); ++i)
        got += (i ? ", " : "") + q(st.all_model_checkpoint_paths[i]);
      got += "], [";
      for (size_t i = 0; i < st.all_model_checkpoint_timestamps.size(); ++i) {
        CheckpointState one;
        one.last_preserved_timestamp = st.all_model_checkpoint_timestamps[i];
        std::string t = xf::io::checkpoint_state_text(one);
        t = t.empty() ? "0.0" : t.substr(t.find(": ") + 2, t.size() - t.find(": ") - 3);
        got += (i ? ", " : "") + ("\"" + t + "\"");
      }
      got += "], ";
      CheckpointState last;
      last.last_preserved_timestamp = st.last_preserved_timestamp;
      std::string t = xf::io::checkpoint_state_text(last);
      got += "\"" + (t.empty() ? std::string("0.0") : t.substr(t.find(": ") + 2, t.size() - t.find(": ") - 3)) + "\"]";
    } catch (const xf::InvalidArgument&) {
      got = "error";
    }
    CHECK(got == want);
  }
}

TEST_CASE("update_checkpoint_state refuses what TensorFlow refuses", "[checkpoint_state]") {
  TempDir d;
  CheckpointState st;
  CHECK_THROWS_AS(xf::io::update_checkpoint_state(d.path, st), xf::InvalidArgument);  // no model path
  st.model_checkpoint_path = d / "checkpoint";
  try {
    xf::io::update_checkpoint_state(d.path, st);
    FAIL("no error");
  } catch (const xf::InvalidArgument& e) {
    CHECK(std::string(e.what()).find("conflicts with path used for checkpoint state") != std::string::npos);
  }
  CHECK_FALSE(fs::exists(d / "checkpoint"));
}

TEST_CASE("os.path functions match Python's", "[checkpoint_state]") {
  TempDir d;
  Chdir cd(d.path);
  fs::create_directories("a/b");
  const std::vector<std::pair<std::string, std::string>> rel = {
      {"a/b/c", "a"}, {"a", "a/b"}, {"/x/y", "/x/z/w"}, {"/x", "/x"}, {"a/../c", "."}, {"c", ""},
      {"//x/y", "/x"}, {"./a//b/", "a"}, {"/", "/q/r"}, {"../up", "a/b"}};
  const std::vector<std::string> paths = {"",      "/",    "//",   "///",   "a/./b/../c", "../../x", "/../x",
                                          "a//b/", "./",   "x/..", "//a/b", "/a/b/",      ".."};
  std::string body = "import os, sys\nfor p, s in [";
  for (const auto& [p, s] : rel) body += "('" + p + "','" + s + "'),";
  body += "]:\n  print(os.path.relpath(p, s))\nfor p in [";
  for (const auto& p : paths) body += "'" + p + "',";
  body += "]:\n  print(os.path.normpath(p) if p else '.', os.path.dirname(p), os.path.basename(p), "
          "os.path.join(p, 'k'), os.path.join(p, '/abs'), os.path.isabs(p), sep='|')\n";
  std::istringstream lines(python(d, body));
  for (const auto& [p, s] : rel) {
    std::string want;
    std::getline(lines, want);
    INFO(p << " from " << s);
    CHECK(xf::io::path::relpath(p, s) == want);
  }
  for (const auto& p : paths) {
    std::string want;
    std::getline(lines, want);
    INFO("'" << p << "'");
    namespace P = xf::io::path;
    std::string got = P::normpath(p) + "|" + P::dirname(p) + "|" + P::basename(p) + "|" + P::join(p, "k") + "|" +
                      P::join(p, "/abs") + "|" + (P::is_absolute(p) ? "True" : "False");
    CHECK(got == want);
  }
  CHECK_THROWS_AS(xf::io::path::relpath("", "a"), xf::InvalidArgument);
}
