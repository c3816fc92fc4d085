// SummaryWriter: events as JSON lines appended with one write(2) each, graphs as JSON files
// replaced atomically (docs/summaries.md).
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>
#include <system_error>

#include "io/event_file.hpp"
#include "summary/format.hpp"
#include "xflow/tfrecord.hpp"
#include "xflow/plan.hpp"
#include "xflow/summary.hpp"

namespace xf {

namespace fs = std::filesystem;
using nlohmann::json;
using summary::encode_double;

namespace {

double wall_time() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::string path_join(const std::string& dir, const std::string& name) {
  return (fs::path(dir) / name).string();
}

// One line of JSON; invalid UTF-8 in strings becomes U+FFFD instead of an exception.
std::string dump_line(const json& j) {
  return j.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
}

// Writes all of `data`, retrying short writes and EINTR.
bool write_all(int fd, const char* data, size_t n) {
  while (n > 0) {
    ssize_t w = ::write(fd, data, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    data += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

void check_tag(const char* what, const std::string& tag) {
  if (tag.empty()) throw InvalidArgument(std::string("[summary.") + what + "] the tag is empty");
}

}  // namespace

SummaryWriter::SummaryWriter(const std::string& run_dir, SummaryFormat format) : run_dir_(run_dir), format_(format) {
  if (run_dir.empty()) throw InvalidArgument("[summary] the run directory name is empty");
  std::error_code ec;
  fs::file_status st = fs::status(run_dir, ec);
  if (fs::exists(st) && !fs::is_directory(st))
    throw FailedPrecondition("[summary] run directory '" + run_dir + "' exists and is not a directory");
  if (!fs::exists(st)) {
    fs::create_directories(run_dir, ec);
    if (ec || !fs::is_directory(run_dir))
      throw NotFound("[summary] cannot create run directory '" + run_dir + "': " +
                     (ec ? ec.message() : std::string("a parent is not a directory")));
  }
  if (::access(run_dir.c_str(), W_OK | X_OK) != 0)
    throw FailedPrecondition("[summary] run directory '" + run_dir + "' is not writable: " + std::strerror(errno));
  if (format == SummaryFormat::tensorboard) {
    // TensorFlow's name; a second writer in the same second on the same host gets a suffix
    // instead of truncating the first one's file.
    const double now = wall_time();
    const std::string base = path_join(run_dir, io::events::event_file_name(now));
    for (int k = 0; event_fd_ < 0; ++k) {
      event_path_ = k == 0 ? base : base + "." + std::to_string(::getpid()) + "-" + std::to_string(k);
      event_fd_ = ::open(event_path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0644);
      if (event_fd_ < 0 && (errno != EEXIST || k > 100))
        throw FailedPrecondition("[summary] cannot create event file '" + event_path_ + "': " + std::strerror(errno));
    }
    append_event(io::events::file_version_event(now));
  }
}

SummaryWriter::~SummaryWriter() {
  if (event_fd_ >= 0) ::close(event_fd_);
  for (int& fd : fds_)
    if (fd >= 0) {
      ::close(fd);
      fd = -1;
    }
}

int SummaryWriter::fd_for(int kind) {
  if (fds_[kind] >= 0) return fds_[kind];
  std::string path = path_join(run_dir_, summary::file_name(kind));
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) throw FailedPrecondition("[summary] cannot open '" + path + "' for appending: " + std::strerror(errno));
  // A file left by a crashed writer can end inside a line. Terminate it and add a recovery marker,
  // so that the reader skips that line (with a warning) instead of calling it corruption.
  struct stat st;
  if (::fstat(fd, &st) == 0 && st.st_size > 0) {
    const off_t size = st.st_size;
    char last = '\n';
    if (::pread(fd, &last, 1, size - 1) == 1 && last != '\n') {
      int64_t partial = 0;  // bytes after the last newline
      std::vector<char> buf(4096);
      for (off_t end = size; end > 0;) {
        off_t begin = std::max<off_t>(0, end - static_cast<off_t>(buf.size()));
        ssize_t got = ::pread(fd, buf.data(), static_cast<size_t>(end - begin), begin);
        if (got != end - begin) break;
        const char* nl = static_cast<const char*>(::memrchr(buf.data(), '\n', static_cast<size_t>(got)));
        if (nl) {
          partial += (buf.data() + got) - nl - 1;
          break;
        }
        partial += got;
        end = begin;
      }
      std::string marker = "\n" + dump_line(json{{summary::kRecoveryKey, partial}});
      if (!write_all(fd, marker.data(), marker.size())) {
        int err = errno;
        ::close(fd);
        throw DataLoss("[summary] writing to '" + path + "' failed: " + std::strerror(err));
      }
    }
  }
  fds_[kind] = fd;
  return fd;
}

void SummaryWriter::append(int kind, const std::string& line) {
  std::lock_guard<std::mutex> lock(mu_);
  int fd = fd_for(kind);
  // O_APPEND and one write of the whole line: lines of concurrent writers never interleave, and a
  // crash can only cut the last line, which the reader then skips.
  if (!write_all(fd, line.data(), line.size()))
    throw DataLoss("[summary] writing to '" + path_join(run_dir_, summary::file_name(kind)) +
                   "' failed: " + std::strerror(errno));
}

void SummaryWriter::append_event(const std::string& event) {
  // The whole framed record in one write(2): a crash can only cut the last record, which readers
  // (TensorBoard, SummaryReader) take as the end of the file.
  std::string record = io::tfrecord_frame(event);
  std::lock_guard<std::mutex> lock(mu_);
  if (!write_all(event_fd_, record.data(), record.size()))
    throw DataLoss("[summary] writing to '" + event_path_ + "' failed: " + std::strerror(errno));
}

void SummaryWriter::add_scalar(const std::string& tag, int64_t step, double value) {
  check_tag("add_scalar", tag);
  if (format_ == SummaryFormat::tensorboard) return append_event(io::events::scalar_event(wall_time(), step, tag, value));
  json j = {{"tag", tag}, {"step", step}, {"wall_time", wall_time()}, {"value", encode_double(value)}};
  append(summary::kScalars, dump_line(j));
}

void SummaryWriter::add_histogram(const std::string& tag, int64_t step, const Tensor& values, int bins) {
  check_tag("add_histogram", tag);
  if (bins < 1) throw InvalidArgument("[summary.add_histogram] bins must be at least 1, got " + std::to_string(bins));
  if (!values.defined()) throw InvalidArgument("[summary.add_histogram] '" + tag + "': the tensor is an empty handle");
  std::vector<double> v = values.to_vector<double>();
  double lo = HUGE_VAL, hi = -HUGE_VAL, sum = 0, sum_sq = 0;
  int64_t count = 0, nans = 0, pos_inf = 0, neg_inf = 0;
  for (double x : v) {
    if (std::isnan(x)) {
      ++nans;
    } else if (std::isinf(x)) {
      ++(x > 0 ? pos_inf : neg_inf);
    } else {
      ++count;
      lo = std::min(lo, x);
      hi = std::max(hi, x);
      sum += x;
      sum_sq += x * x;
    }
  }
  json j = {{"tag", tag}, {"step", step}, {"wall_time", wall_time()}};
  j["count"] = count;
  j["min"] = count ? encode_double(lo) : json(nullptr);
  j["max"] = count ? encode_double(hi) : json(nullptr);
  j["sum"] = encode_double(sum);          // can overflow to inf
  j["sum_squares"] = encode_double(sum_sq);
  j["nan_count"] = nans;
  j["pos_inf_count"] = pos_inf;
  j["neg_inf_count"] = neg_inf;
  std::vector<double> edges;
  std::vector<int64_t> counts;
  if (count > 0) {
    double a = lo, b = hi;
    if (a == b) {  // one distinct value: a bucket range around it
      double w = std::max(0.5, std::abs(a) * 1e-6);
      a = std::isfinite(a - w) ? a - w : a;
      b = std::isfinite(b + w) ? b + w : b;
    }
    // Equal widths, computed in halves so that b - a cannot overflow.
    double half = (b * 0.5 - a * 0.5) / bins;
    edges.resize(static_cast<size_t>(bins) + 1);
    for (int i = 0; i < bins; ++i) edges[i] = (a + half * i) + half * i;
    edges[0] = a;
    edges[bins] = b;
    for (int i = 1; i <= bins; ++i) edges[i] = std::max(edges[i], edges[i - 1]);  // ascending despite rounding
    counts.assign(static_cast<size_t>(bins), 0);
    for (double x : v) {
      if (!std::isfinite(x)) continue;
      // Bucket i holds [edges[i], edges[i+1]); the last one includes its upper edge.
      auto it = std::upper_bound(edges.begin(), edges.end(), x);
      int64_t k = static_cast<int64_t>(it - edges.begin()) - 1;
      k = std::clamp<int64_t>(k, 0, bins - 1);
      ++counts[static_cast<size_t>(k)];
    }
  }
  if (format_ == SummaryFormat::tensorboard) {
    io::events::Histogram h;
    h.min = count ? lo : 0;
    h.max = count ? hi : 0;
    h.num = static_cast<double>(count);
    h.sum = sum;
    h.sum_squares = sum_sq;
    if (!edges.empty()) h.bucket_limit.assign(edges.begin() + 1, edges.end());
    h.bucket.assign(counts.begin(), counts.end());
    return append_event(io::events::histogram_event(wall_time(), step, tag, h));
  }
  j["bucket_edges"] = edges;  // finite doubles only
  j["bucket_counts"] = counts;
  append(summary::kHistograms, dump_line(j));
}

void SummaryWriter::add_text(const std::string& tag, int64_t step, const std::string& text) {
  check_tag("add_text", tag);
  if (format_ == SummaryFormat::tensorboard) return append_event(io::events::text_event(wall_time(), step, tag, text));
  json j = {{"tag", tag}, {"step", step}, {"wall_time", wall_time()}, {"text", text}};
  append(summary::kTexts, dump_line(j));
}

void SummaryWriter::write_graph(const std::string& name, const std::string& json_text) {
  if (name.empty() || name == "." || name == ".." || name.find('/') != std::string::npos ||
      name.find('\0') != std::string::npos || name[0] == '.')
    throw InvalidArgument("[summary.add_graph] graph name '" + name +
                          "' must be a plain file name (not empty, no '/', not starting with '.')");
  std::string path = path_join(run_dir_, name + ".json");
  int64_t n;
  {
    std::lock_guard<std::mutex> lock(mu_);
    n = temp_counter_++;
  }
  // The temporary name starts with '.' and does not end in ".json": a reader never lists it.
  std::string tmp = path_join(run_dir_, "." + name + ".json.tmp-" + std::to_string(::getpid()) + "-" + std::to_string(n));
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw FailedPrecondition("[summary.add_graph] cannot create '" + tmp + "': " + std::strerror(errno));
  bool ok = write_all(fd, json_text.data(), json_text.size()) && write_all(fd, "\n", 1) && ::fsync(fd) == 0;
  int err = errno;
  ok = (::close(fd) == 0) && ok;
  if (!ok) {
    ::unlink(tmp.c_str());
    throw DataLoss("[summary.add_graph] writing '" + tmp + "' failed: " + std::strerror(err));
  }
  // Rename replaces the old graph in one step: a reader sees the old file or the new one, never
  // a half-written one.
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    err = errno;
    ::unlink(tmp.c_str());
    throw DataLoss("[summary.add_graph] cannot replace '" + path + "': " + std::strerror(err));
  }
}

void SummaryWriter::add_graph(const Graph& g, const std::string& name) { write_graph(name, g.to_json()); }

void SummaryWriter::add_graph(const Graph& g, const Plan& plan, const std::string& name) {
  const Graph& pg = plan.graph();
  bool same = pg.nodes.size() == g.nodes.size() && pg.values.size() == g.values.size();
  for (size_t i = 0; same && i < g.nodes.size(); ++i) same = pg.nodes[i].op == g.nodes[i].op;
  if (!same)
    throw InvalidArgument("[summary.add_graph] the plan was not built from this graph: it has " +
                          std::to_string(pg.nodes.size()) + " nodes and " + std::to_string(pg.values.size()) +
                          " values, the graph " + std::to_string(g.nodes.size()) + " and " +
                          std::to_string(g.values.size()));
  const std::vector<PlanStep>& steps = plan.steps();
  const std::vector<PlanProfileEntry>& prof = plan.profile();
  if (prof.size() != steps.size())
    throw FailedPrecondition("[summary.add_graph] graph '" + name +
                             "': the plan has no profile; call plan.set_profiling(true) and run it first");

  Graph out = g;
  std::vector<GraphProvenance> pp = plan.provenance();
  out.provenance.insert(out.provenance.end(), pp.begin(), pp.end());
  json j = json::parse(out.to_json());

  const std::vector<ValueSlot>& slots = plan.slots();
  json jsteps = json::array();
  std::vector<json> jnodes(g.nodes.size());
  double total = 0;
  for (size_t si = 0; si < steps.size(); ++si) {
    const PlanStep& s = steps[si];
    const PlanProfileEntry& p = prof[si];
    total += p.seconds;
    jsteps.push_back({{"step", si},
                      {"nodes", s.nodes},
                      {"fused", s.fused},
                      {"level", s.level},
                      {"seconds", encode_double(p.seconds)},
                      {"bytes", p.bytes}});
    if (s.fused) {  // the kernel kind, and the generated kernel's cache key (docs/summaries.md)
      std::string key = plan.kernel_hash(static_cast<int>(si));
      jsteps.back()["kernel"] = key.empty() ? "interpreted" : "generated";
      if (!key.empty()) jsteps.back()["kernel_hash"] = key;
    }
    std::set<int> materialized(s.outputs.begin(), s.outputs.end());
    // A fused step's time is split evenly over its nodes (the kernel runs them together, tile by
    // tile); the step's own time is in "steps".
    double share = p.seconds / static_cast<double>(s.nodes.size());
    for (int nid : s.nodes) {
      const GraphNode& n = g.nodes[static_cast<size_t>(nid)];
      int64_t output_bytes = 0, written = 0;
      for (int v : n.outputs) {
        const GraphValue& gv = g.values[static_cast<size_t>(v)];
        output_bytes += numel(gv.shape) * dtype_size(gv.dtype);
        if (materialized.count(v)) written += slots[static_cast<size_t>(v)].bytes;
      }
      jnodes[static_cast<size_t>(nid)] = {{"node", nid},
                                          {"step", si},
                                          {"fused", s.fused},
                                          {"seconds", encode_double(share)},
                                          {"output_bytes", output_bytes},
                                          {"written_bytes", written}};
    }
  }
  json nodes = json::array();
  for (size_t i = 0; i < jnodes.size(); ++i) {
    if (jnodes[i].is_null())  // not run by any step (never happens with today's plans)
      jnodes[i] = {{"node", i}, {"step", nullptr}, {"fused", false}, {"seconds", 0.0}, {"output_bytes", 0},
                   {"written_bytes", 0}};
    nodes.push_back(std::move(jnodes[i]));
  }
  j["profile"] = {{"seconds", encode_double(total)},
                  {"peak_bytes", plan.peak_bytes()},
                  {"arena_bytes", plan.arena_bytes()},
                  {"nodes", std::move(nodes)},
                  {"steps", std::move(jsteps)}};
  write_graph(name, j.dump(-1, ' ', false, json::error_handler_t::replace));
}

void SummaryWriter::flush() {
  std::lock_guard<std::mutex> lock(mu_);
  if (event_fd_ >= 0 && ::fsync(event_fd_) != 0)
    throw DataLoss("[summary] flushing '" + event_path_ + "' failed: " + std::strerror(errno));
  for (int kind = 0; kind < summary::kKinds; ++kind)
    if (fds_[kind] >= 0 && ::fsync(fds_[kind]) != 0)
      throw DataLoss("[summary] flushing '" + path_join(run_dir_, summary::file_name(kind)) +
                     "' failed: " + std::strerror(errno));
}

}  // namespace xf
