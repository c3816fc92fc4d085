// NumPy's .npy and .npz files, read and written as NumPy 1.24 does (docs/npy.md).
//
// Every xflow dtype maps to one NumPy dtype: bool_ '|b1', uint8 '|u1', int32 '<i4', int64 '<i8',
// float32 '<f4', float64 '<f8'. Writing gives the bytes np.save gives; reading accepts what any
// NumPy writes for those dtypes: either byte order, Fortran order, 0-d and empty arrays, format
// versions 1.0, 2.0 and 3.0. Anything else is refused with an exception naming the file and the
// problem, before any memory is allocated for the data:
//   InvalidArgument  not an .npy/.npz file, a malformed header, negative or overflowing
//                    dimensions, rank over 32, an .npz member that is not "<name>.npy"
//   DataLoss         truncated data, bytes the header does not account for, a damaged zip
//                    archive, a CRC-32 mismatch
//   Unimplemented    a dtype xflow does not have (float16, complex, int8/16, uint16/32/64,
//                    strings, structured, object arrays: pickles are never loaded), an unknown
//                    format version, encrypted or exotically compressed .npz members
//   NotFound         a missing file or .npz member
// Files are written whole or not at all: to a temporary name, fsync'ed (unless `sync` is false)
// and renamed into place.
#pragma once
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "xflow/tensor.hpp"

namespace xf::io {

// ---- .npy: one array ----

void save_npy(const std::string& path, const Tensor& t, bool sync = true);
Tensor load_npy(const std::string& path);
// The bytes of an .npy file, in memory.
std::string npy_bytes(const Tensor& t);
// The tensor of an .npy file in memory; `label` names it in messages.
Tensor tensor_from_npy(std::string_view bytes, const std::string& label = "<npy bytes>");

// ---- .npz: named arrays in a zip archive, one "<name>.npy" member each ----

// Names in order; written in that order. A name may hold '/' ("dense1/kernel": NumPy's np.load
// gives the same key back). InvalidArgument for an empty or repeated name.
using NamedTensors = std::vector<std::pair<std::string, Tensor>>;

// np.savez: stored members.
void save_npz(const std::string& path, const NamedTensors& arrays, bool sync = true);
// np.savez_compressed: deflated members (zlib level 6, as Python's zipfile).
void savez_compressed(const std::string& path, const NamedTensors& arrays, bool sync = true);
// The same from a map (or anything iterable over (name, Tensor) pairs), in its order.
template <class Map, class = decltype(std::declval<const Map&>().begin()->second.dtype())>
void save_npz(const std::string& path, const Map& arrays, bool sync = true) {
  save_npz(path, NamedTensors(arrays.begin(), arrays.end()), sync);
}
template <class Map, class = decltype(std::declval<const Map&>().begin()->second.dtype())>
void savez_compressed(const std::string& path, const Map& arrays, bool sync = true) {
  savez_compressed(path, NamedTensors(arrays.begin(), arrays.end()), sync);
}

// Every array of an .npz file (np.load(path) with each array read).
std::map<std::string, Tensor> load_npz(const std::string& path);

// An open .npz archive: its names, and arrays read one at a time.
class NpzReader {
 public:
  explicit NpzReader(const std::string& path);
  // An archive in memory (copied); `label` names it in messages.
  static NpzReader from_bytes(std::string_view bytes, const std::string& label = "<npz bytes>");
  ~NpzReader();
  NpzReader(NpzReader&&) noexcept;
  NpzReader& operator=(NpzReader&&) noexcept;

  // The arrays' names in archive order (NumPy's NpzFile.files).
  std::vector<std::string> names() const;
  bool contains(const std::string& name) const;
  // NotFound when there is no such array.
  Tensor read(const std::string& name) const;
  // Every array, in archive order.
  NamedTensors read_all() const;

 private:
  struct Impl;
  NpzReader() = default;
  Impl* impl_ = nullptr;
};

}  // namespace xf::io
