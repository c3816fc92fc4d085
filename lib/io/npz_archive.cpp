#include "io/npz_archive.hpp"

#include <sys/stat.h>
#include <zip.h>

#include <cerrno>
#include <cstring>
#include <set>

#include "xflow/error.hpp"

namespace xf::io {

namespace {

// Deflate cannot expand data by more than 1032:1 (each 258-byte match costs at least two bits),
// so a member that claims more is lying, and is refused before anything is allocated for it.
constexpr uint64_t kMaxDeflateRatio = 1032;

std::string zip_error_text(int code) {
  zip_error_t e;
  zip_error_init_with_code(&e, code);
  std::string s = zip_error_strerror(&e);
  zip_error_fini(&e);
  return s;
}

// The exception for a libzip error code met while opening or reading `what`.
[[noreturn]] void throw_zip_error(int code, const std::string& what) {
  std::string text = zip_error_text(code);
  switch (code) {
    case ZIP_ER_NOENT:
    case ZIP_ER_OPEN:
      throw NotFound(what + ": cannot open (" + text + ")");
    case ZIP_ER_NOZIP:
      throw InvalidArgument(what + ": not a zip archive (.npz): " + text);
    case ZIP_ER_ENCRNOTSUPP:
    case ZIP_ER_COMPNOTSUPP:
      throw Unimplemented(what + ": " + text);
    case ZIP_ER_MEMORY:
      throw DataLoss(what + ": damaged zip archive (" + text + ")");
    default:
      throw DataLoss(what + ": damaged zip archive (" + text + ")");
  }
}

}  // namespace

struct NpzArchive::Zip {
  zip_t* za = nullptr;
};

std::unique_ptr<NpzArchive> NpzArchive::open_file(const std::string& path) {
  std::unique_ptr<NpzArchive> a(new NpzArchive());
  a->label_ = path;
  struct stat st;
  if (::stat(path.c_str(), &st) != 0)
    throw NotFound(path + ": cannot open .npz file (" + std::strerror(errno) + ")");
  if (!S_ISREG(st.st_mode)) throw InvalidArgument(path + ": not a regular file");
  int err = 0;
  zip_t* za = zip_open(path.c_str(), ZIP_RDONLY | ZIP_CHECKCONS, &err);
  if (!za) throw_zip_error(err, path);
  a->zip_ = new Zip{za};
  a->load_directory(static_cast<uint64_t>(st.st_size));
  return a;
}

std::unique_ptr<NpzArchive> NpzArchive::open_bytes(std::string_view bytes, const std::string& label) {
  std::unique_ptr<NpzArchive> a(new NpzArchive());
  a->label_ = label;
  zip_error_t error;
  zip_error_init(&error);
  zip_source_t* src = zip_source_buffer_create(bytes.data(), bytes.size(), 0, &error);
  if (!src) {
    int code = zip_error_code_zip(&error);
    zip_error_fini(&error);
    throw_zip_error(code, label);
  }
  zip_t* za = zip_open_from_source(src, ZIP_RDONLY | ZIP_CHECKCONS, &error);
  if (!za) {
    zip_source_free(src);
    int code = zip_error_code_zip(&error);
    zip_error_fini(&error);
    throw_zip_error(code, label);
  }
  zip_error_fini(&error);
  a->zip_ = new Zip{za};
  a->load_directory(bytes.size());
  return a;
}

NpzArchive::~NpzArchive() {
  if (zip_) {
    zip_discard(zip_->za);
    delete zip_;
  }
}

void NpzArchive::load_directory(uint64_t archive_bytes) {
  zip_int64_t n = zip_get_num_entries(zip_->za, 0);
  if (n < 0) throw DataLoss(label_ + ": damaged zip archive (no entry count)");
  std::set<std::string> seen;
  for (zip_int64_t i = 0; i < n; ++i) {
    zip_stat_t st;
    zip_stat_init(&st);
    if (zip_stat_index(zip_->za, static_cast<zip_uint64_t>(i), 0, &st) != 0)
      throw DataLoss(label_ + ": damaged zip archive (entry " + std::to_string(i) +
                     "): " + zip_strerror(zip_->za));
    const char* raw = zip_get_name(zip_->za, static_cast<zip_uint64_t>(i), ZIP_FL_ENC_RAW);
    std::string name = raw ? raw : "";
    std::string where = label_ + ": member '" + name + "'";
    if (name.size() < 5 || name.compare(name.size() - 4, 4, ".npy") != 0)
      throw InvalidArgument(where + " is not an .npy array (an .npz holds only <name>.npy members)");
    if (!(st.valid & ZIP_STAT_SIZE) || !(st.valid & ZIP_STAT_COMP_SIZE) || !(st.valid & ZIP_STAT_COMP_METHOD))
      throw DataLoss(where + ": the zip directory gives no sizes");
    if ((st.valid & ZIP_STAT_ENCRYPTION_METHOD) && st.encryption_method != ZIP_EM_NONE)
      throw Unimplemented(where + " is encrypted");
    NpzMember m;
    m.name = name.substr(0, name.size() - 4);
    m.index = static_cast<uint64_t>(i);
    m.size = st.size;
    m.compressed_size = st.comp_size;
    if (st.comp_method == ZIP_CM_STORE) {
      if (st.comp_size != st.size)
        throw DataLoss(where + ": stored member with compressed size " + std::to_string(st.comp_size) +
                       " != size " + std::to_string(st.size));
    } else if (st.comp_method == ZIP_CM_DEFLATE) {
      m.deflated = true;
      if (st.size / kMaxDeflateRatio > st.comp_size)
        throw DataLoss(where + ": claims " + std::to_string(st.size) + " bytes from " +
                       std::to_string(st.comp_size) + " deflated ones, more than deflate can produce");
    } else {
      throw Unimplemented(where + ": compression method " + std::to_string(st.comp_method) +
                          " (an .npz member is stored or deflated)");
    }
    if (st.comp_size > archive_bytes)
      throw DataLoss(where + ": compressed size " + std::to_string(st.comp_size) + " is larger than the archive (" +
                     std::to_string(archive_bytes) + " bytes)");
    if (!seen.insert(m.name).second) throw DataLoss(label_ + ": member '" + name + "' appears twice");
    members_.push_back(std::move(m));
  }
}

int64_t NpzArchive::find(const std::string& name) const {
  for (size_t i = 0; i < members_.size(); ++i)
    if (members_[i].name == name) return static_cast<int64_t>(i);
  return -1;
}

namespace {

struct ZipFile {
  zip_file_t* f = nullptr;
  ~ZipFile() {
    if (f) zip_fclose(f);
  }
};

// Reads exactly `n` bytes (fewer only at the end of the member); DataLoss on a libzip error.
uint64_t read_fully(zip_file_t* f, uint8_t* dst, uint64_t n, const std::string& where) {
  uint64_t done = 0;
  while (done < n) {
    zip_int64_t r = zip_fread(f, dst + done, n - done);
    if (r < 0) {
      zip_error_t* e = zip_file_get_error(f);
      int code = zip_error_code_zip(e);
      if (code == ZIP_ER_CRC) throw DataLoss(where + ": CRC-32 mismatch (the data is damaged)");
      throw DataLoss(where + ": cannot read (" + std::string(zip_error_strerror(e)) + ")");
    }
    if (r == 0) break;
    done += static_cast<uint64_t>(r);
  }
  return done;
}

}  // namespace

NpyHeader NpzArchive::read(size_t i, const std::function<uint8_t*(const NpyHeader&)>& destination) const {
  if (i >= members_.size()) throw OutOfRange(label_ + ": no member " + std::to_string(i));
  const NpzMember& m = members_[i];
  const std::string where = label_ + ": member '" + m.name + ".npy'";
  ZipFile zf;
  zf.f = zip_fopen_index(zip_->za, m.index, 0);
  if (!zf.f) throw DataLoss(where + ": cannot open (" + std::string(zip_strerror(zip_->za)) + ")");

  std::string head(static_cast<size_t>(std::min<uint64_t>(m.size, kNpyPrefixBytes)), '\0');
  uint64_t got = read_fully(zf.f, reinterpret_cast<uint8_t*>(head.data()), head.size(), where);
  if (got < head.size()) throw DataLoss(where + ": truncated member (" + std::to_string(got) + " bytes)");
  uint64_t header_len = npy_header_length(head, m.size, where);
  size_t prefix = head.size();
  head.resize(static_cast<size_t>(header_len));
  got = read_fully(zf.f, reinterpret_cast<uint8_t*>(head.data()) + prefix, header_len - prefix, where);
  if (got < header_len - prefix) throw DataLoss(where + ": truncated member (ends in the .npy header)");
  NpyHeader h = parse_npy_header(head, m.size, where);

  uint8_t* out = destination(h);
  std::vector<uint8_t> column_major;
  uint8_t* raw = out;
  if (h.fortran_order && h.shape.size() > 1) {
    column_major.resize(static_cast<size_t>(h.data_bytes));
    raw = column_major.data();
  }
  got = read_fully(zf.f, raw, h.data_bytes, where);
  if (got < h.data_bytes)
    throw DataLoss(where + ": truncated data (" + std::to_string(got) + " of " + std::to_string(h.data_bytes) +
                   " bytes)");
  // One more read reaches the end of the member, where libzip compares the CRC-32.
  uint8_t extra[1];
  if (read_fully(zf.f, extra, 1, where) != 0) throw DataLoss(where + ": more data than the zip directory says");
  npy_data_to_native(h, raw, out);
  return h;
}

}  // namespace xf::io
