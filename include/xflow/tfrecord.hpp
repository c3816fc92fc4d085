// TFRecord files: TensorFlow's container of length-prefixed, CRC-checked records (uncompressed,
// or the whole record stream as one zlib or gzip stream). The writer's output is byte-identical
// to TensorFlow's; the reader gives TensorFlow's outcome on every kind of damage.
// docs/tfrecord.md describes the format, the errors and the differences from TensorFlow.
#pragma once
#include <cstdint>
#include <iterator>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace xf::io {

enum class Compression { none, zlib, gzip };

// TensorFlow's compression_type names: "" (or "NONE"), "ZLIB", "GZIP"; others InvalidArgument.
Compression compression_from_name(const std::string& s);
// "", "ZLIB" or "GZIP".
const char* compression_name(Compression c);

struct TFRecordOptions {
  Compression compression = Compression::none;
  int compression_level = -1;  // zlib's level: -1 (zlib's default, 6) or 0..9
};

// Writes a TFRecord file (created or truncated). Each record is framed as
//   uint64 length (little-endian), uint32 masked CRC32C of the length, data, uint32 masked CRC32C
//   of the data.
// With compression, the framed stream goes through one deflate stream (zlib or gzip wrapper, as
// TensorFlow's ZlibOutputBuffer: window 15, memLevel 9), finished by close().
// Not thread-safe: one writer per thread, or the caller locks.
class TFRecordWriter {
 public:
  // Throws NotFound when the file cannot be created (missing directory), FailedPrecondition when
  // it cannot be opened for writing, InvalidArgument for a bad compression level.
  explicit TFRecordWriter(const std::string& path, TFRecordOptions options = {});
  ~TFRecordWriter();  // closes (errors are dropped: call close() to see them)
  TFRecordWriter(TFRecordWriter&&) noexcept;
  TFRecordWriter& operator=(TFRecordWriter&&) noexcept;
  TFRecordWriter(const TFRecordWriter&) = delete;
  TFRecordWriter& operator=(const TFRecordWriter&) = delete;

  // FailedPrecondition after close().
  void write(std::string_view record);
  // Hands everything written so far to the file (compressed: a deflate partial flush, as
  // TensorFlow). FailedPrecondition after close().
  void flush();
  // Finishes the compressed stream and closes the file. A second close() does nothing.
  void close();
  bool closed() const;
  const std::string& path() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Reads the records of one TFRecord file (or of bytes in memory) in order.
// On damage (TensorFlow's outcomes, offsets in the uncompressed stream):
//   * the stream ends inside a record's 12-byte header: a clean end (read() returns false);
//   * the length's CRC does not match: DataLoss "corrupted record at <offset of the record>"
//     (at offset 0 TensorFlow adds " (Is this even a TFRecord file?)", and so do we);
//   * the data's CRC does not match: DataLoss "corrupted record at <offset of the data>";
//   * the stream ends inside the data or its CRC: DataLoss "truncated record at <offset>";
//   * a compressed stream that is not valid zlib/gzip: DataLoss naming zlib's complaint.
// Records before the damage are delivered; after an error every read() throws it again.
// A declared length is never allocated ahead of the bytes that back it.
class TFRecordReader {
 public:
  // Throws NotFound when the file cannot be opened.
  explicit TFRecordReader(const std::string& path, Compression c = Compression::none);
  // A reader over bytes in memory (the reader keeps its copy).
  static TFRecordReader from_bytes(std::string bytes, Compression c = Compression::none);
  ~TFRecordReader();
  TFRecordReader(TFRecordReader&&) noexcept;
  TFRecordReader& operator=(TFRecordReader&&) noexcept;
  TFRecordReader(const TFRecordReader&) = delete;
  TFRecordReader& operator=(const TFRecordReader&) = delete;

  // The next record into `record`; false at a clean end of the stream.
  bool read(std::string& record);
  // The offset (uncompressed stream) of the next record.
  uint64_t offset() const;
  int64_t records_read() const;

 private:
  struct Impl;
  explicit TFRecordReader(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Range-for over the records of a file (tf.compat.v1.io.tf_record_iterator):
//   for (const std::string& r : xf::io::tf_record_iterator(path)) ...
// Damage throws from the increment, after the records before it.
class tf_record_iterator {
 public:
  explicit tf_record_iterator(const std::string& path, Compression c = Compression::none);

  class iterator {
   public:
    using iterator_category = std::input_iterator_tag;
    using value_type = std::string;
    using difference_type = std::ptrdiff_t;
    using pointer = const std::string*;
    using reference = const std::string&;
    iterator() = default;
    reference operator*() const { return owner_->record_; }
    pointer operator->() const { return &owner_->record_; }
    iterator& operator++();
    bool operator==(const iterator& o) const { return owner_ == o.owner_; }
    bool operator!=(const iterator& o) const { return owner_ != o.owner_; }

   private:
    friend class tf_record_iterator;
    explicit iterator(tf_record_iterator* owner) : owner_(owner) {}
    tf_record_iterator* owner_ = nullptr;
  };

  iterator begin();  // reads the first record
  iterator end() { return iterator(); }
  TFRecordReader& reader() { return reader_; }

 private:
  TFRecordReader reader_;
  std::string record_;
  bool started_ = false;
};

// Every record of a file.
std::vector<std::string> read_tfrecord_file(const std::string& path, Compression c = Compression::none);

// The framing of one record (header, data, footer), as the writer writes it uncompressed.
std::string tfrecord_frame(std::string_view record);

}  // namespace xf::io
