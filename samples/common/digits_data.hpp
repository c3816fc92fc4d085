// The digits data set of the samples (docs/digits.md): the CSV reader, the fixed train/test split
// and the conversion to a TFRecord file of tf.train.Examples, shared by samples/digits and
// samples/digits_queue so that both train and test on the same images.
#pragma once
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "xflow/error.hpp"
#include "xflow/example.hpp"
#include "xflow/tfrecord.hpp"

namespace digits {

struct Dataset {
  std::vector<float> pixels;  // n x 64, scaled to [0, 1]
  std::vector<int32_t> labels;
  int64_t n = 0;
};

// data/digits/digits.csv: 64 pixels (0..16) and a label per line. `who` names the sample in errors.
inline Dataset load(const std::string& path, const std::string& who) {
  std::ifstream f(path);
  if (!f) throw xf::NotFound("[" + who + "] cannot open '" + path + "' (run from the project directory or pass --data)");
  Dataset d;
  std::string line;
  int64_t lineno = 0;
  while (std::getline(f, line)) {
    ++lineno;
    if (line.empty() || line[0] == '#') continue;
    std::stringstream ss(line);
    std::string cell;
    std::vector<int> v;
    while (std::getline(ss, cell, ',')) v.push_back(std::stoi(cell));
    if (v.size() != 65 || v[64] < 0 || v[64] > 9)
      throw xf::DataLoss("[" + who + "] " + path + ":" + std::to_string(lineno) + ": expected 64 pixels and a label 0..9");
    for (int i = 0; i < 64; ++i) d.pixels.push_back(static_cast<float>(v[i]) / 16.0f);
    d.labels.push_back(v[64]);
    ++d.n;
  }
  return d;
}

// The fixed split: a shuffle with seed 2024, then the first 80% train, the rest test.
inline void split(const Dataset& all, Dataset& train, Dataset& test) {
  std::vector<int64_t> order(static_cast<size_t>(all.n));
  std::iota(order.begin(), order.end(), 0);
  std::mt19937_64 rng(2024);
  std::shuffle(order.begin(), order.end(), rng);
  int64_t n_train = all.n * 8 / 10;
  for (int64_t k = 0; k < all.n; ++k) {
    Dataset& d = k < n_train ? train : test;
    int64_t i = order[static_cast<size_t>(k)];
    d.pixels.insert(d.pixels.end(), all.pixels.begin() + i * 64, all.pixels.begin() + (i + 1) * 64);
    d.labels.push_back(all.labels[static_cast<size_t>(i)]);
    ++d.n;
  }
}

// Writes the images of `d` to a TFRecord file of tf.train.Examples (`x_name`: 64 floats, `y_name`:
// the label as one int64), as a TF user's conversion script does, through a temporary name so
// that a reader never sees half a file.
inline void write_records(const Dataset& d, const std::string& path, const std::string& x_name,
                          const std::string& y_name) {
  std::string tmp = path + ".tmp" + std::to_string(::getpid());
  {
    xf::io::TFRecordWriter w(tmp);
    xf::io::Example ex;
    for (int64_t i = 0; i < d.n; ++i) {
      ex.set_floats(x_name, std::vector<float>(d.pixels.begin() + i * 64, d.pixels.begin() + (i + 1) * 64));
      ex.set_int64s(y_name, {d.labels[static_cast<size_t>(i)]});
      w.write(ex.serialize());
    }
    w.close();
  }
  std::filesystem::rename(tmp, path);
}

}  // namespace digits
