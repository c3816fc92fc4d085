// .npy and .npz files (include/xflow/npy.hpp, docs/npy.md), in both directions with NumPy:
// tests/io/npy_oracle.py (run by Debian's /usr/bin/python3) writes files of every dtype, byte
// order, memory order, format version and shape, and checks the files xflow writes.
#include <stdlib.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "xflow/npy.hpp"
#include "xflow/tensor.hpp"
#include "temp_files.hpp"
#include "process.hpp"

using namespace xf;
namespace fs = std::filesystem;

#ifndef XFLOW_NPY_ORACLE
#error "XFLOW_NPY_ORACLE (the path of tests/io/npy_oracle.py) must be defined"
#endif

namespace {

using xf::testing::read_bytes;
using xf::testing::write_bytes;

// A fresh directory (mkdtemp under $TMPDIR or /tmp), removed at the end of the test case.
using xf::testing::TempDir;

// Runs the oracle; returns its exit status and output.
std::pair<int, std::string> run_oracle(const std::string& mode, const std::string& dir) {
  std::string cmd = "/usr/bin/python3 '" XFLOW_NPY_ORACLE "' " + mode + " '" + dir + "' 2>&1";
  xf::testing::CommandResult r = xf::testing::run_command(cmd);
  return {r.exit_code, r.output};
}

std::string tensor_raw(const Tensor& t) {
  Tensor c = t.contiguous();
  return std::string(static_cast<const char*>(c.raw_data()), static_cast<size_t>(c.size() * dtype_size(c.dtype())));
}

// Values of every kind for `d`: a ramp, and for floats -0.0, NaN, +-Inf mixed in.
Tensor sample(DType d, const Shape& s, int salt) {
  int64_t n = numel(s);
  std::vector<double> v(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) v[static_cast<size_t>(i)] = static_cast<double>((i * 37 + salt) % 1000) * 0.006 - 3.0;
  if (is_floating(d)) {
    const double specials[] = {-0.0, std::nan(""), INFINITY, -INFINITY};
    for (int64_t i = 0; i < n; i += 5) v[static_cast<size_t>(i)] = specials[(i / 5 + salt) % 4];
    return d == DType::float32 ? Tensor::from_vector(std::vector<float>(v.begin(), v.end()), s)
                               : Tensor::from_vector(v, s);
  }
  switch (d) {
    case DType::bool_: {
      std::vector<uint8_t> b(v.size());
      for (size_t i = 0; i < b.size(); ++i) b[i] = (i + static_cast<size_t>(salt)) % 3 == 0;
      return Tensor::from_bytes(b.data(), b.size(), DType::bool_, s);
    }
    case DType::uint8: {
      std::vector<uint8_t> b(v.size());
      for (size_t i = 0; i < b.size(); ++i) b[i] = static_cast<uint8_t>(i * 31 + static_cast<size_t>(salt));
      return Tensor::from_vector(b, s);
    }
    case DType::int32: {
      std::vector<int32_t> b(v.size());
      for (size_t i = 0; i < b.size(); ++i) b[i] = static_cast<int32_t>(i * 1000003u) - 70000 * salt;
      return Tensor::from_vector(b, s);
    }
    default: {
      std::vector<int64_t> b(v.size());
      for (size_t i = 0; i < b.size(); ++i) b[i] = static_cast<int64_t>(i * 0x9E3779B97F4A7C15ull) + salt;
      return Tensor::from_vector(b, s);
    }
  }
}

const DType kAllDTypes[] = {DType::bool_, DType::uint8, DType::int32, DType::int64, DType::float32, DType::float64};
const Shape kShapes[] = {{}, {0}, {5}, {2, 3}, {2, 0, 3}, {3, 4, 5}};

// An .npy file with a hand-written header text, padded as NumPy pads.
std::string npy_with_header(const std::string& text, const std::string& data, int major = 1) {
  size_t len_bytes = major == 1 ? 2 : 4;
  size_t hlen = text.size() + 1;
  size_t pad = 64 - ((8 + len_bytes + hlen) % 64);
  std::string out = "\x93NUMPY";
  out += static_cast<char>(major);
  out += '\0';
  for (size_t b = 0; b < len_bytes; ++b) out += static_cast<char>(((hlen + pad) >> (8 * b)) & 0xff);
  return out + text + std::string(pad, ' ') + "\n" + data;
}

template <class E>
void require_refused(const std::string& path, const std::string& phrase) {
  INFO(path << ": expecting '" << phrase << "'");
  try {
    if (path.size() > 4 && path.compare(path.size() - 4, 4, ".npz") == 0) (void)io::load_npz(path);
    else (void)io::load_npy(path);
    FAIL("no exception");
  } catch (const E& e) {
    std::string what = e.what();
    INFO(what);
    CHECK(what.find(path) != std::string::npos);
    CHECK(what.find(phrase) != std::string::npos);
  }
}

}  // namespace

TEST_CASE("npy: NumPy-written files of every dtype, byte order, memory order, version and shape load") {
  TempDir dir;
  auto [status, out] = run_oracle("write", dir.path.string());
  INFO(out);
  REQUIRE(status == 0);
  auto manifest = nlohmann::json::parse(read_bytes(dir / "manifest.json"));
  int arrays = 0, fortran = 0, swapped = 0;
  for (const auto& entry : manifest["good"]) {
    std::string file = dir / entry["file"].get<std::string>();
    INFO(file);
    std::vector<std::pair<std::string, Tensor>> loaded;
    if (entry["kind"] == "npy") {
      loaded.emplace_back("", io::load_npy(file));
      std::string text = read_bytes(file);
      fortran += text.find("'fortran_order': True") != std::string::npos;
      swapped += text.find("'>") != std::string::npos;
      // The same bytes from memory.
      CHECK(bitwise_equal(io::tensor_from_npy(text, file), loaded.back().second));
    } else {
      io::NpzReader r(file);
      for (const auto& [name, t] : r.read_all()) loaded.emplace_back(name, t);
      auto all = io::load_npz(file);
      CHECK(all.size() == loaded.size());
    }
    REQUIRE(loaded.size() == entry["members"].size());
    for (size_t i = 0; i < loaded.size(); ++i) {
      const auto& m = entry["members"][i];
      const Tensor& t = loaded[i].second;
      INFO("member " << m["name"]);
      CHECK(loaded[i].first == m["name"].get<std::string>());
      CHECK(dtype_name(t.dtype()) == m["dtype"].get<std::string>());
      CHECK(t.shape() == m["shape"].get<Shape>());
      CHECK(tensor_raw(t) == read_bytes(dir / m["raw"].get<std::string>()));
      // Written back, it is the file np.save writes for the same array.
      CHECK(io::npy_bytes(t) == read_bytes(dir / m["canon"].get<std::string>()));
      ++arrays;
    }
    if (entry.value("native", false)) CHECK(io::npy_bytes(loaded[0].second) == read_bytes(file));
  }
  CHECK(arrays > 180);
  CHECK(fortran > 20);
  CHECK(swapped > 40);
}

TEST_CASE("npy: NumPy refuses nothing xflow writes, and xflow's .npy files are np.save's bytes") {
  TempDir dir;
  nlohmann::json manifest = nlohmann::json::array();
  int k = 0;
  auto member = [&](const std::string& name, const Tensor& t) {
    std::string raw = "x" + std::to_string(k++) + ".raw";
    write_bytes(dir / raw, tensor_raw(t));
    return nlohmann::json{{"name", name}, {"dtype", dtype_name(t.dtype())}, {"shape", t.shape()}, {"raw", raw}};
  };
  io::NamedTensors all;
  for (DType d : kAllDTypes) {
    for (const Shape& s : kShapes) {
      Tensor t = sample(d, s, k);
      std::string file = std::string(dtype_name(d)) + "_" + std::to_string(k) + ".npy";
      io::save_npy(dir / file, t);
      manifest.push_back({{"file", file}, {"kind", "npy"}, {"members", {member("", t)}}});
      all.emplace_back(std::string("g") + std::to_string(all.size()) + "/" + dtype_name(d), t);
    }
  }
  // A strided view is written as its values.
  Tensor base = sample(DType::float32, {3, 4}, 9);
  Tensor view = Tensor::view(base.buffer(), DType::float32, {4, 3}, {1, 4}, 0);  // the transpose
  REQUIRE_FALSE(view.is_contiguous());
  io::save_npy(dir / "view.npy", view);
  manifest.push_back({{"file", "view.npy"}, {"kind", "npy"}, {"members", {member("", view)}}});
  all.emplace_back("view", view);
  for (bool compressed : {false, true}) {
    std::string file = compressed ? "deflated.npz" : "stored.npz";
    if (compressed) io::savez_compressed(dir / file, all);
    else io::save_npz(dir / file, all);
    nlohmann::json members = nlohmann::json::array();
    for (const auto& [name, t] : all) members.push_back(member(name, t));
    manifest.push_back({{"file", file}, {"kind", "npz"}, {"compressed", compressed}, {"members", members}});
  }
  io::save_npz(dir / "empty.npz", io::NamedTensors{});
  manifest.push_back({{"file", "empty.npz"}, {"kind", "npz"}, {"compressed", false}, {"members", nlohmann::json::array()}});
  write_bytes(dir / "xflow_manifest.json", manifest.dump());
  auto [status, out] = run_oracle("check", dir.path.string());
  INFO(out);
  CHECK(status == 0);
  CHECK(out.find(" 0 failures") != std::string::npos);
}

TEST_CASE("npy: round trips of every dtype and shape, from files and from memory") {
  TempDir dir;
  int salt = 0;
  for (DType d : kAllDTypes) {
    for (const Shape& s : kShapes) {
      Tensor t = sample(d, s, ++salt);
      INFO(dtype_name(d) << " " << shape_str(s));
      io::save_npy(dir / "t.npy", t, false);
      Tensor back = io::load_npy(dir / "t.npy");
      CHECK(bitwise_equal(back, t));
      CHECK(bitwise_equal(io::tensor_from_npy(io::npy_bytes(t)), t));
    }
  }
  // Headers are multiples of 64 bytes, and the file is the header plus the data.
  for (const Shape& s : kShapes) {
    std::string b = io::npy_bytes(zeros(s, DType::int64));
    size_t header = b.size() - static_cast<size_t>(numel(s)) * 8;
    CHECK(header % 64 == 0);
    CHECK(b[header - 1] == '\n');
  }
}

TEST_CASE("npz: names, order, single arrays, maps, and the file replaced whole") {
  TempDir dir;
  io::NamedTensors arrays = {{"b", sample(DType::float32, {2, 2}, 1)},
                             {"dense1/kernel", sample(DType::float64, {3, 1}, 2)},
                             {"a", sample(DType::bool_, {4}, 3)}};
  io::save_npz(dir / "m.npz", arrays);
  io::NpzReader r(dir / "m.npz");
  CHECK(r.names() == std::vector<std::string>{"b", "dense1/kernel", "a"});
  CHECK(r.contains("dense1/kernel"));
  CHECK_FALSE(r.contains("dense1"));
  CHECK(bitwise_equal(r.read("a"), arrays[2].second));
  CHECK_THROWS_AS(r.read("missing"), NotFound);
  auto all = io::load_npz(dir / "m.npz");
  REQUIRE(all.size() == 3);
  CHECK(bitwise_equal(all.at("dense1/kernel"), arrays[1].second));

  std::map<std::string, Tensor> m = {{"x", ones({2}, DType::int32)}, {"y", zeros({}, DType::uint8)}};
  io::savez_compressed(dir / "m.npz", m);
  auto back = io::load_npz(dir / "m.npz");
  REQUIRE(back.size() == 2);
  CHECK(bitwise_equal(back.at("x"), m.at("x")));
  CHECK(bitwise_equal(back.at("y"), m.at("y")));
  // No temporary is left next to the file.
  int files = 0;
  for (const auto& e : fs::directory_iterator(dir.path)) files += e.is_regular_file();
  CHECK(files == 1);

  auto bytes = read_bytes(dir / "m.npz");
  auto mem = io::NpzReader::from_bytes(bytes, "in memory");
  CHECK(mem.names() == std::vector<std::string>{"x", "y"});

  CHECK_THROWS_AS(io::save_npz(dir / "bad.npz", io::NamedTensors{{"a", ones({1})}, {"a", ones({1})}}), InvalidArgument);
  CHECK_THROWS_AS(io::save_npz(dir / "bad.npz", io::NamedTensors{{"", ones({1})}}), InvalidArgument);
  CHECK_FALSE(fs::exists(dir / "bad.npz"));
}

TEST_CASE("npy: NumPy files of dtypes xflow lacks, pickles, and foreign zip members are refused") {
  TempDir dir;
  auto [status, out] = run_oracle("write", dir.path.string());
  INFO(out);
  REQUIRE(status == 0);
  auto manifest = nlohmann::json::parse(read_bytes(dir / "manifest.json"));
  REQUIRE(manifest["bad"].size() >= 14);
  for (const auto& b : manifest["bad"]) {
    std::string file = dir / b["file"].get<std::string>();
    std::string error = b["error"], phrase = b["phrase"];
    if (error == "Unimplemented") require_refused<Unimplemented>(file, phrase);
    else require_refused<InvalidArgument>(file, phrase);
  }
}

TEST_CASE("npy: malformed, lying and truncated files are refused with the file's name") {
  TempDir dir;
  const std::string data6(24, '\0');  // (2, 3) int32
  struct Case {
    std::string name, bytes;
    ErrorCode code;
    std::string phrase;
  };
  const std::string good = "{'descr': '<i4', 'fortran_order': False, 'shape': (2, 3), }";
  std::vector<Case> cases = {
      {"empty.npy", "", ErrorCode::data_loss, "truncated"},
      {"magic.npy", "\x93NUMPZ\x01\x00", ErrorCode::invalid_argument, "magic"},
      {"magic_only.npy", "\x93NUM", ErrorCode::data_loss, "truncated"},
      {"version.npy", std::string("\x93NUMPY\x04\x00\x10\x00", 10) + std::string(16, ' '), ErrorCode::unimplemented,
       "version 4.0"},
      {"header_cut.npy", npy_with_header(good, data6).substr(0, 40), ErrorCode::data_loss, "truncated"},
      {"data_cut.npy", npy_with_header(good, data6.substr(0, 20)), ErrorCode::data_loss, "needs 24 bytes"},
      {"trailing.npy", npy_with_header(good, data6 + "xyz"), ErrorCode::data_loss, "3 bytes after the data"},
      {"lie_shape.npy", npy_with_header("{'descr': '<i4', 'fortran_order': False, 'shape': (1000000, 1000000), }", data6),
       ErrorCode::data_loss, "truncated"},
      {"lie_dtype.npy", npy_with_header("{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }", data6),
       ErrorCode::data_loss, "truncated"},
      {"negative.npy", npy_with_header("{'descr': '<i4', 'fortran_order': False, 'shape': (2, -3), }", data6),
       ErrorCode::invalid_argument, "negative dimension"},
      {"overflow.npy",
       npy_with_header("{'descr': '<i4', 'fortran_order': False, 'shape': (4294967296, 4294967296, 4), }", data6),
       ErrorCode::invalid_argument, "more elements than can exist"},
      {"overflow_empty.npy",
       npy_with_header("{'descr': '<i4', 'fortran_order': False, 'shape': (0, 4294967296, 4294967296), }", ""),
       ErrorCode::invalid_argument, "more elements than can exist"},
      {"huge_int.npy", npy_with_header("{'descr': '<i4', 'fortran_order': False, 'shape': (99999999999999999999999,), }", data6),
       ErrorCode::invalid_argument, "huge dimension"},
      {"garbage.npy", npy_with_header("this is not a dict", data6), ErrorCode::invalid_argument, "malformed .npy header"},
      {"list.npy", npy_with_header("['descr', 'fortran_order', 'shape']", data6), ErrorCode::invalid_argument, "not a dict"},
      {"missing_key.npy", npy_with_header("{'descr': '<i4', 'shape': (2, 3)}", data6), ErrorCode::invalid_argument,
       "missing key 'fortran_order'"},
      {"extra_key.npy", npy_with_header("{'descr': '<i4', 'fortran_order': False, 'shape': (2, 3), 'x': 1}", data6),
       ErrorCode::invalid_argument, "unexpected key 'x'"},
      {"twice.npy", npy_with_header("{'descr': '<i4', 'descr': '<i4', 'fortran_order': False, 'shape': (2, 3)}", data6),
       ErrorCode::invalid_argument, "twice"},
      {"shape_list.npy", npy_with_header("{'descr': '<i4', 'fortran_order': False, 'shape': [2, 3]}", data6),
       ErrorCode::invalid_argument, "not a tuple"},
      {"shape_float.npy", npy_with_header("{'descr': '<i4', 'fortran_order': False, 'shape': (2.0, 3)}", data6),
       ErrorCode::invalid_argument, "not a decimal integer"},
      {"fortran_int.npy", npy_with_header("{'descr': '<i4', 'fortran_order': 0, 'shape': (2, 3)}", data6),
       ErrorCode::invalid_argument, "not True or False"},
      {"descr_bad.npy", npy_with_header("{'descr': '<x4', 'fortran_order': False, 'shape': (2, 3)}", data6),
       ErrorCode::invalid_argument, "not a dtype descriptor"},
      {"unterminated.npy", npy_with_header("{'descr': '<i4, 'fortran_order': False, 'shape': (2, 3)}", data6),
       ErrorCode::invalid_argument, "malformed"},
      {"nested.npy", npy_with_header("{'descr': '<i4', 'fortran_order': False, 'shape': ((((((((((((2,),),),),),),),),),),),)}", data6),
       ErrorCode::invalid_argument, "nesting too deep"},
      {"header_huge.npy", std::string("\x93NUMPY\x02\x00\xff\xff\xff\x7f", 12), ErrorCode::invalid_argument,
       "larger than"},
      {"utf8.npy", npy_with_header("{'descr': '<i4\xff', 'fortran_order': False, 'shape': (2, 3)}", data6, 3),
       ErrorCode::invalid_argument, "UTF-8"},
  };
  // A header of rank 33.
  std::string dims;
  for (int i = 0; i < 33; ++i) dims += "1, ";
  cases.push_back({"rank33.npy", npy_with_header("{'descr': '<i4', 'fortran_order': False, 'shape': (" + dims + "), }", std::string(4, '\0')),
                   ErrorCode::invalid_argument, "rank 33"});
  for (const Case& c : cases) {
    std::string path = dir / c.name;
    write_bytes(path, c.bytes);
    INFO(c.name << ": expecting '" << c.phrase << "'");
    bool thrown = false;
    try {
      (void)io::load_npy(path);
    } catch (const Error& e) {
      thrown = true;
      std::string what = e.what();
      INFO(what);
      CHECK(e.code() == c.code);
      CHECK(what.find(path) != std::string::npos);
      CHECK(what.find(c.phrase) != std::string::npos);
    }
    CHECK(thrown);
    // The same from memory, with the same error.
    try {
      (void)io::tensor_from_npy(c.bytes, c.name);
      FAIL("no exception from memory");
    } catch (const Error& e) {
      CHECK(e.code() == c.code);
    }
  }
  CHECK_THROWS_AS(io::load_npy(dir / "does_not_exist.npy"), NotFound);
}

TEST_CASE("npz: damaged archives are refused: CRC errors, truncation, lying members") {
  TempDir dir;
  io::NamedTensors arrays = {{"a", sample(DType::float32, {64, 64}, 1)}, {"b", sample(DType::int64, {100}, 2)}};
  io::save_npz(dir / "ok.npz", arrays);
  const std::string ok = read_bytes(dir / "ok.npz");
  REQUIRE(io::load_npz(dir / "ok.npz").size() == 2);

  // A flipped data byte of the stored member "a": the CRC-32 no longer matches.
  size_t magic = ok.find("\x93NUMPY");
  REQUIRE(magic != std::string::npos);
  std::string flipped = ok;
  flipped[magic + 128 + 1000] ^= 0x40;
  write_bytes(dir / "crc.npz", flipped);
  try {
    (void)io::load_npz(dir / "crc.npz");
    FAIL("no exception");
  } catch (const DataLoss& e) {
    CHECK(std::string(e.what()).find(dir / "crc.npz") != std::string::npos);
    CHECK(std::string(e.what()).find("CRC") != std::string::npos);
  }
  // Names still list: only reading the damaged array fails.
  io::NpzReader r(dir / "crc.npz");
  CHECK(r.names().size() == 2);
  CHECK(bitwise_equal(r.read("b"), arrays[1].second));
  CHECK_THROWS_AS(r.read("a"), DataLoss);

  // A flipped byte in a deflated member.
  io::savez_compressed(dir / "z.npz", arrays);
  std::string z = read_bytes(dir / "z.npz");
  z[z.size() / 3] ^= 0x10;
  write_bytes(dir / "z_bad.npz", z);
  CHECK_THROWS_AS(io::load_npz(dir / "z_bad.npz"), DataLoss);

  // Cut short: the end of central directory record is gone.
  write_bytes(dir / "cut.npz", ok.substr(0, ok.size() / 2));
  try {
    (void)io::load_npz(dir / "cut.npz");
    FAIL("no exception");
  } catch (const InvalidArgument& e) {
    CHECK(std::string(e.what()).find(dir / "cut.npz") != std::string::npos);
    CHECK(std::string(e.what()).find("not a zip archive") != std::string::npos);
  }
  // Not a zip at all: an .npy file named .npz.
  io::save_npy(dir / "plain.npz", arrays[0].second);
  CHECK_THROWS_AS(io::load_npz(dir / "plain.npz"), InvalidArgument);
  CHECK_THROWS_AS(io::load_npz(dir / "missing.npz"), NotFound);

  // A member whose .npy header lies about its shape: the member's size disagrees.
  std::string lying = ok;
  size_t shape = lying.find("(64, 64)");
  REQUIRE(shape != std::string::npos);
  lying.replace(shape, 8, "(64, 65)");
  write_bytes(dir / "lying.npz", lying);
  io::NpzReader lr(dir / "lying.npz");
  try {
    (void)lr.read("a");
    FAIL("no exception");
  } catch (const DataLoss& e) {
    CHECK(std::string(e.what()).find("member 'a.npy'") != std::string::npos);
    CHECK(std::string(e.what()).find("truncated") != std::string::npos);
  }
}

TEST_CASE("npy: NumPy's limit of 32 dimensions, writing and reading") {
  // Rank 32 fits a version 1.0 header; the writer refuses what NumPy cannot read.
  Shape s(32, 1);
  std::string b = io::npy_bytes(zeros(s, DType::uint8));
  CHECK(b[6] == 1);
  CHECK(bitwise_equal(io::tensor_from_npy(b), zeros(s, DType::uint8)));
  Shape s33(33, 1);
  CHECK_THROWS_AS(io::npy_bytes(zeros(s33, DType::uint8)), InvalidArgument);
}
