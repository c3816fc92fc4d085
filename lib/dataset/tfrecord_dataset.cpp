// TFRecordDataset: the records of TFRecord files as scalar StringTensors (io::TFRecordReader).
// Several files are read as tf.data does: the file names become a dataset, interleaved with
// cycle_length = num_parallel_reads and block_length 1.
#include <optional>

#include "dataset/internal.hpp"
#include "xflow/tfrecord.hpp"

namespace xf::data {
namespace detail {
namespace {

// One file, opened at the first next(). An error (a missing file, a damaged record) is raised
// once; the file then counts as ended, after the records before the damage.
class TFRecordFileIterator : public IteratorBase {
 public:
  TFRecordFileIterator(std::string path, io::Compression c) : path_(std::move(path)), compression_(c) {}
  std::optional<Element> next() override {
    if (done_) return std::nullopt;
    std::string record;
    try {
      if (!reader_) reader_.emplace(path_, compression_);
      if (!reader_->read(record)) {
        done_ = true;
        reader_.reset();
        return std::nullopt;
      }
    } catch (...) {
      done_ = true;
      reader_.reset();
      throw;
    }
    // Moved in (StringTensor's scalar constructor would copy it out of an initializer list).
    std::vector<std::string> values;
    values.push_back(std::move(record));
    Element e;
    e.emplace_back(StringTensor(std::move(values), Shape{}));
    return e;
  }
  void cancel() override {}

 private:
  std::string path_;
  io::Compression compression_;
  std::optional<io::TFRecordReader> reader_;
  bool done_ = false;
};

class TFRecordFileDataset : public DatasetBase {
 public:
  TFRecordFileDataset(std::string path, io::Compression c) : path_(std::move(path)), compression_(c) {}
  std::unique_ptr<IteratorBase> make_iterator() const override {
    return std::make_unique<TFRecordFileIterator>(path_, compression_);
  }

 private:
  std::string path_;
  io::Compression compression_;
};

}  // namespace
}  // namespace detail

Dataset Dataset::TFRecordDataset(std::vector<std::string> filenames, const std::string& compression,
                                 int64_t buffer_size, int64_t num_parallel_reads, Loc loc) {
  io::Compression c = io::Compression::none;
  try {
    c = io::compression_from_name(compression);
  } catch (const Error& e) {
    raise(e.code(), "Dataset.TFRecordDataset", e.what(), loc);
  }
  if (buffer_size < -1) {
    raise(ErrorCode::invalid_argument, "Dataset.TFRecordDataset",
          "buffer_size must be >= 0 or -1, got " + std::to_string(buffer_size), loc);
  }
  if (num_parallel_reads <= 0 && num_parallel_reads != AUTOTUNE) {
    raise(ErrorCode::invalid_argument, "Dataset.TFRecordDataset",
          "num_parallel_reads must be positive or AUTOTUNE, got " + std::to_string(num_parallel_reads), loc);
  }
  if (filenames.size() == 1 && num_parallel_reads == 1) {
    return Dataset(std::make_shared<detail::TFRecordFileDataset>(filenames[0], c));
  }
  int64_t cycle = num_parallel_reads == AUTOTUNE ? detail::autotune_threads() : num_parallel_reads;
  return from_tensor_slices(StringTensor::vector(std::move(filenames)), loc)
      .interleave(
          [c](const Element& e) {
            return Dataset(std::make_shared<detail::TFRecordFileDataset>(e[0].strings().item(), c));
          },
          cycle, 1, cycle, loc);
}

}  // namespace xf::data
