// The model server (docs/serving.md): models and their versions, the REST API of TensorFlow
// Serving (model_servers/http_rest_api_handler.cc), polling for versions, batching, metrics.
#include "xflow/serving.hpp"

#include <httplib.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <cstdio>
#include <fstream>
#include <functional>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <thread>

#include "serving/batcher.hpp"
#include "serving/json_tensor.hpp"
#include "serving/metrics.hpp"
#include "xflow/error.hpp"
#include "xflow/example.hpp"
#include "xflow/ops.hpp"
#include "xflow/saved_model.hpp"

namespace xf::serving {

using json = nlohmann::json;
// Status and metadata keep TF Serving's key order (its protobuf messages' field order).
using ojson = nlohmann::ordered_json;

namespace {

const char* kDefaultSignature = "serving_default";

// TensorFlow's status code names, as model status gives them.
const char* tf_code_name(ErrorCode c) {
  switch (c) {
    case ErrorCode::invalid_argument:
    case ErrorCode::shape:
    case ErrorCode::dtype:
    case ErrorCode::axis:
      return "INVALID_ARGUMENT";
    case ErrorCode::out_of_range:
      return "OUT_OF_RANGE";
    case ErrorCode::not_found:
      return "NOT_FOUND";
    case ErrorCode::data_loss:
      return "DATA_LOSS";
    case ErrorCode::failed_precondition:
      return "FAILED_PRECONDITION";
    case ErrorCode::unimplemented:
      return "UNIMPLEMENTED";
    case ErrorCode::internal:
      return "INTERNAL";
    case ErrorCode::cancelled:
      return "CANCELLED";
    case ErrorCode::deadline_exceeded:
      return "DEADLINE_EXCEEDED";
    case ErrorCode::unavailable:
      return "UNAVAILABLE";
    case ErrorCode::resource_exhausted:
      return "RESOURCE_EXHAUSTED";
    case ErrorCode::aborted:
      return "ABORTED";
    case ErrorCode::already_exists:
      return "ALREADY_EXISTS";
  }
  return "UNKNOWN";
}

// TF Serving's HTTP status for a status code (model_servers/http_server.cc ToHTTPStatusCode).
int http_status(ErrorCode c) {
  switch (c) {
    case ErrorCode::invalid_argument:
    case ErrorCode::shape:
    case ErrorCode::dtype:
    case ErrorCode::axis:
    case ErrorCode::failed_precondition:
    case ErrorCode::out_of_range:
      return 400;
    case ErrorCode::not_found:
      return 404;
    case ErrorCode::already_exists:
    case ErrorCode::aborted:
      return 409;
    case ErrorCode::resource_exhausted:
      return 429;
    case ErrorCode::cancelled:
      return 499;
    case ErrorCode::unimplemented:
      return 501;
    case ErrorCode::unavailable:
      return 503;
    case ErrorCode::deadline_exceeded:
      return 504;
    default:
      return 500;
  }
}

const char* status_name(int http) {
  switch (http) {
    case 200:
      return "OK";
    case 400:
      return "INVALID_ARGUMENT";
    case 404:
      return "NOT_FOUND";
    case 409:
      return "ABORTED";
    case 413:
      return "RESOURCE_EXHAUSTED";
    case 429:
      return "RESOURCE_EXHAUSTED";
    case 501:
      return "UNIMPLEMENTED";
    case 503:
      return "UNAVAILABLE";
    case 504:
      return "DEADLINE_EXCEEDED";
    default:
      return "INTERNAL";
  }
}

bool all_digits(const std::string& s) {
  return !s.empty() && s.size() <= 18 && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// A loaded version: the model and, per signature, the types of the inputs a request gives (what
// the JSON parser needs): string inputs, and numeric inputs no string input feeds.
struct Loaded {
  int64_t version = 0;
  SavedModel model;
  std::map<std::string, std::map<std::string, TensorType>> input_types;
  std::map<std::string, std::unique_ptr<Batcher>> batchers;  // per signature, with batching on
  // With batching on: per signature, the model rebuilt for each padded batch size (2, 4, ...,
  // max_batch_size) where the rebuild works and agrees with `model` (with_batch_size).
  std::map<std::string, std::map<int64_t, SavedModel>> by_batch;

  // What runs `rows` rows of signature `sig`: the smallest rebuilt graph that holds them, else
  // the exported graph (one run per slice of its batch).
  const SavedModel& executable(const std::string& sig, int64_t rows) const {
    auto s = by_batch.find(sig);
    if (s == by_batch.end() || rows <= 1) return model;
    auto e = s->second.lower_bound(rows);
    return e == s->second.end() ? model : e->second;
  }
};

// Inputs of `rows` rows for signature s whose values vary by row and column (a probe).
std::map<std::string, Tensor> probe_inputs(const train::Signature& s, int64_t rows) {
  std::map<std::string, Tensor> out;
  for (const auto& [name, info] : s.inputs) {
    Shape sh = info.shape;
    if (!sh.empty() && sh[0] == -1) sh[0] = rows;
    int64_t n = 1;
    for (int64_t x : sh) n *= x;
    std::vector<double> v(static_cast<size_t>(n));
    const bool is_float = info.dtype == DType::float32 || info.dtype == DType::float64;
    for (int64_t i = 0; i < n; ++i) v[static_cast<size_t>(i)] = is_float ? ((i * 7919) % 97) / 97.0 - 0.5 : i % 2;
    out[name] = cast(Tensor::from_vector(v, sh), info.dtype);
  }
  return out;
}

// Whether two runs' outputs agree: integers exactly, floats within 1e-4 relative (a matmul of
// another row count may sum in another order).
bool outputs_agree(const std::map<std::string, Tensor>& a, const std::map<std::string, Tensor>& b) {
  if (a.size() != b.size()) return false;
  for (const auto& [name, ta] : a) {
    auto it = b.find(name);
    if (it == b.end() || it->second.shape() != ta.shape() || it->second.dtype() != ta.dtype()) return false;
    std::vector<double> x = cast(ta, DType::float64).to_vector<double>();
    std::vector<double> y = cast(it->second, DType::float64).to_vector<double>();
    for (size_t i = 0; i < x.size(); ++i) {
      if (std::isnan(x[i]) && std::isnan(y[i])) continue;
      if (!(std::abs(x[i] - y[i]) <= 1e-4 * (1 + std::abs(y[i])))) return false;
    }
  }
  return true;
}

struct VersionStatus {
  std::string state;  // START, LOADING, AVAILABLE, UNLOADING, END
  std::string error_code = "OK";
  std::string error_message;
};

struct Model {
  ModelConfig config;
  std::mutex mu;
  std::map<int64_t, std::shared_ptr<const Loaded>> serving;  // AVAILABLE versions
  std::map<int64_t, VersionStatus> status;                    // every version seen
};

// ---- DT_STRING inputs and outputs, on the host around the graph's run (docs/serving.md) ----

// The graph's inputs for a request: its numeric inputs, and the inputs its string inputs' Examples
// feed (io::parse_example with a FixedLenFeature per feature: TensorFlow's ParseExample and its
// messages; the parsed values cast to the input's dtype).
std::map<std::string, Tensor> graph_inputs(const train::Signature& s, std::map<std::string, Tensor> numeric,
                                           const std::map<std::string, StringTensor>& strings) {
  for (const auto& [name, in] : s.string_inputs) {
    auto it = strings.find(name);
    if (it == strings.end()) throw RequestError(400, "Missing input: " + name);
    io::FeatureMap features;
    for (const auto& [fname, f] : in.features) {
      const train::TensorInfo& info = s.inputs.at(f.input);
      io::FixedLenFeature spec;
      spec.shape.assign(info.shape.begin() + 1, info.shape.end());
      spec.dtype = f.dtype;
      if (!f.default_value.empty())
        spec.default_value = Value(cast(Tensor::from_vector(f.default_value, Shape{static_cast<int64_t>(f.default_value.size())}), f.dtype));
      features[fname] = spec;
    }
    // Unnamed Examples, as TF Serving feeds them: TensorFlow's messages say "Name: <unknown>".
    const StringTensor& serialized = it->second;
    StringTensor names(std::vector<std::string>(static_cast<size_t>(serialized.size()), "<unknown>"), serialized.shape());
    io::ParsedFeatures parsed = io::parse_example(serialized, features, names);
    for (const auto& [fname, f] : in.features) {
      Tensor t = parsed.at(fname).tensor();
      const DType want = s.inputs.at(f.input).dtype;
      numeric[f.input] = t.dtype() == want ? t : cast(t, want);
    }
  }
  return numeric;
}

// The signature's string outputs, looked up in their vocabularies (index_to_string), added to `out`.
std::map<std::string, StringTensor> string_outputs(const train::Signature& s, const std::map<std::string, Tensor>& out) {
  std::map<std::string, StringTensor> r;
  for (const auto& [name, o] : s.string_outputs) {
    const Tensor& idx = out.at(o.indices);
    std::vector<int64_t> ids = cast(idx, DType::int64).to_vector<int64_t>();
    std::vector<std::string> words;
    words.reserve(ids.size());
    for (int64_t i : ids)
      words.push_back(i >= 0 && static_cast<uint64_t>(i) < o.vocabulary.size() ? o.vocabulary[static_cast<size_t>(i)]
                                                                                : o.default_value);
    r.emplace(name, StringTensor(std::move(words), idx.shape()));
  }
  return r;
}

HostTensor string_host(const StringTensor& t) {
  HostTensor h;
  h.is_string = true;
  h.shape = t.shape();
  h.strings = t.values();
  return h;
}

HostTensor to_host(const Tensor& t) {
  HostTensor h;
  Tensor c = t.contiguous();
  h.dtype = c.dtype();
  h.shape = c.shape();
  const size_t bytes = static_cast<size_t>(c.size()) * static_cast<size_t>(dtype_size(c.dtype()));
  const uint8_t* p = static_cast<const uint8_t*>(c.raw_data());
  h.data.assign(p, p + bytes);
  return h;
}

Tensor from_host(const HostTensor& h) {
  return Tensor::from_bytes(h.data.data(), static_cast<size_t>(h.elements()), h.dtype, h.shape);
}

// The servable a request names: a version, a label, or the latest.
struct Target {
  std::string model;
  std::string version;  // digits, or empty
  std::string label;    // or empty
};

std::string request_spec(const Target& t, int64_t version) {
  if (!t.version.empty()) return "Specific(" + t.model + ", " + std::to_string(version) + ")";
  if (!t.label.empty()) return "Specific(" + t.model + ", " + t.label + ")";
  return "Latest(" + t.model + ")";
}

}  // namespace

int http_workers(int num_threads) {
  // TF Serving's default (4 per core) counts threads that process requests; httplib's worker
  // also holds its keep-alive connection while it is idle (up to 5 s), so the pool is the number
  // of connections served at once and is never below 64 (decision in docs/decisions.md).
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  return std::max(kMinHttpWorkers, num_threads > 0 ? num_threads : 4 * cores);
}

struct Server::Impl {
  ServerOptions options;
  // The configured models: replaced whole by reload_config; a request copies the pointer it
  // needs (under models_mu) and keeps its model alive while it runs.
  std::mutex models_mu;
  std::map<std::string, std::shared_ptr<Model>> by_name;
  Metrics metrics;
  RunLimiter limiter;  // the runs in progress at once: one per core

  httplib::Server http;
  std::thread listener, poller;
  int bound_port = -1;
  int listen_fd = -1;  // the listening socket (httplib owns and closes it)
  std::mutex stop_mu;
  std::condition_variable stop_cv;
  bool stopping = false;
  bool started = false;
  std::atomic<bool> listen_returned{false};
  std::mutex poll_mu;  // one poll at a time
  std::string config_error;  // the last error of reloading the model config file (poller thread)

  explicit Impl(ServerOptions o) : options(std::move(o)), limiter(std::max(1u, std::thread::hardware_concurrency())) {
    by_name = make_models(options.models, {});
  }

  // Models for `configs`; a model whose name and base path are unchanged keeps its versions
  // (from `old`), with the new policy and labels.
  static std::map<std::string, std::shared_ptr<Model>> make_models(const std::vector<ModelConfig>& configs,
                                                                   const std::map<std::string, std::shared_ptr<Model>>& old) {
    std::set<std::string> names;
    for (const ModelConfig& c : configs) {
      if (c.name.empty()) throw InvalidArgument("[serving] a model needs a name");
      if (!names.insert(c.name).second) throw InvalidArgument("[serving] model '" + c.name + "' is configured twice");
    }
    std::map<std::string, std::shared_ptr<Model>> out;
    for (const ModelConfig& c : configs) {
      auto o = old.find(c.name);
      if (o != old.end() && o->second->config.base_path == c.base_path) {
        std::lock_guard<std::mutex> lock(o->second->mu);
        o->second->config = c;
        out[c.name] = o->second;
        continue;
      }
      auto m = std::make_shared<Model>();
      m->config = c;
      out[c.name] = m;
    }
    return out;
  }

  std::shared_ptr<Model> find_model(const std::string& name) {
    std::lock_guard<std::mutex> lock(models_mu);
    auto it = by_name.find(name);
    return it == by_name.end() ? nullptr : it->second;
  }

  void reload_config(const std::vector<ModelConfig>& configs) {
    std::lock_guard<std::mutex> poll_lock(poll_mu);
    std::map<std::string, std::shared_ptr<Model>> fresh;
    {
      std::lock_guard<std::mutex> lock(models_mu);
      fresh = make_models(configs, by_name);
    }
    // New models load before they are visible; removed ones go once their last request is done.
    for (auto& [name, m] : fresh) poll_model(*m);
    std::map<std::string, std::shared_ptr<Model>> dropped;
    {
      std::lock_guard<std::mutex> lock(models_mu);
      dropped.swap(by_name);
      by_name = fresh;
    }
  }

  // ---- versions ----

  std::shared_ptr<const Loaded> load(Model& m, int64_t version) {
    auto l = std::make_shared<Loaded>();
    l->version = version;
    l->model = load_saved_model(m.config.base_path + "/" + std::to_string(version));
    for (const std::string& sig : l->model.signature_names()) {
      const train::Signature& s = l->model.signature(sig);
      auto& d = l->input_types[sig];
      for (const auto& [name, info] : s.inputs)
        if (!train::fed_by_string_input(s, name)) d[name] = info.dtype;
      for (const auto& [name, in] : s.string_inputs) d[name] = TensorType::string_type();
      // Warm-up: one run of every signature (its plan compiled) before it takes traffic.
      std::map<std::string, Tensor> zeros;
      for (const auto& [name, info] : s.inputs) {
        Shape sh = info.shape;
        if (!sh.empty() && sh[0] == -1) sh[0] = 1;
        int64_t n = 1;
        for (int64_t x : sh) n *= x;
        std::vector<uint8_t> bytes(static_cast<size_t>(n) * static_cast<size_t>(dtype_size(info.dtype)), 0);
        zeros[name] = Tensor::from_bytes(bytes.data(), static_cast<size_t>(n), info.dtype, sh);
      }
      l->model.run(sig, zeros);
      bool batchable = options.enable_batching && !s.inputs.empty();
      for (const auto* part : {&s.inputs, &s.outputs})
        for (const auto& [name, info] : *part) batchable = batchable && !info.shape.empty() && info.shape[0] == -1;
      if (batchable) l->batchers[sig] = std::make_unique<Batcher>(options.batching, static_cast<int>(std::max(1u, std::thread::hardware_concurrency())));
    }
    if (!l->batchers.empty()) {
      // One graph per padded batch size, compiled and checked against the exported graph's
      // slices on a probe before traffic; a size whose rebuild fails or disagrees is left out
      // (its batches run slice by slice).
      std::vector<int64_t> sizes;
      for (int64_t p = 2; p < options.batching.max_batch_size; p *= 2) sizes.push_back(p);
      if (options.batching.max_batch_size >= 2) sizes.push_back(options.batching.max_batch_size);
      for (int64_t p : sizes) {
        SavedModel rebuilt;
        try {
          rebuilt = l->model.with_batch_size(p);
        } catch (const Error&) {
          break;  // the graph fixes its batch: no size will do
        }
        for (const auto& [sig, b] : l->batchers) {
          try {
            auto in = probe_inputs(l->model.signature(sig), p);
            if (outputs_agree(rebuilt.run(sig, in), l->model.run(sig, in))) l->by_batch[sig][p] = rebuilt;
          } catch (const Error&) {
          }
        }
      }
    }
    return l;
  }

  std::vector<int64_t> wanted(const Model& m, const std::vector<int64_t>& candidates) {
    const VersionPolicy& p = m.config.policy;
    std::vector<int64_t> out;
    if (p.kind == VersionPolicy::Kind::all) return candidates;
    if (p.kind == VersionPolicy::Kind::specific) {
      for (int64_t v : candidates)
        if (std::find(p.versions.begin(), p.versions.end(), v) != p.versions.end()) out.push_back(v);
      return out;
    }
    const size_t n = static_cast<size_t>(std::max(1, p.num_versions));
    for (size_t i = candidates.size() > n ? candidates.size() - n : 0; i < candidates.size(); ++i)
      out.push_back(candidates[i]);
    return out;
  }

  void poll_model(Model& m) {
    std::vector<int64_t> on_disk;
    try {
      on_disk = saved_model_versions(m.config.base_path);
    } catch (const Error&) {
      on_disk.clear();  // a missing base path: no versions (yet)
    }
    std::set<int64_t> failed;
    for (;;) {
      std::vector<int64_t> candidates;
      for (int64_t v : on_disk)
        if (!failed.count(v)) candidates.push_back(v);
      {
        std::lock_guard<std::mutex> lock(m.mu);
        for (const auto& [v, s] : m.status)
          if (s.state == "END" && s.error_code != "OK") failed.insert(v);
      }
      candidates.erase(std::remove_if(candidates.begin(), candidates.end(), [&](int64_t v) { return failed.count(v) > 0; }),
                       candidates.end());
      std::vector<int64_t> want = wanted(m, candidates);
      bool new_failure = false;
      for (int64_t v : want) {
        {
          std::lock_guard<std::mutex> lock(m.mu);
          if (m.serving.count(v)) continue;
          m.status[v] = VersionStatus{"LOADING", "OK", ""};
        }
        std::shared_ptr<const Loaded> l;
        VersionStatus st{"AVAILABLE", "OK", ""};
        // TF Serving's --max_num_load_retries: a failed load is tried again after
        // --load_retry_interval_micros (state LOADING meanwhile), then reported.
        for (int attempt = 0;; ++attempt) {
          try {
            l = load(m, v);
            st = VersionStatus{"AVAILABLE", "OK", ""};
          } catch (const Error& e) {
            st = VersionStatus{"END", tf_code_name(e.code()), e.what()};
          } catch (const std::exception& e) {
            st = VersionStatus{"END", "UNKNOWN", e.what()};
          }
          if (l || attempt >= options.max_num_load_retries) break;
          std::unique_lock<std::mutex> lock(stop_mu);
          if (stop_cv.wait_for(lock, std::chrono::microseconds(std::max<int64_t>(0, options.load_retry_interval_micros)),
                               [this] { return stopping; }))
            break;
        }
        std::lock_guard<std::mutex> lock(m.mu);
        m.status[v] = st;
        if (l) {
          m.serving[v] = l;
        } else {
          failed.insert(v);
          new_failure = true;
        }
      }
      if (new_failure) continue;  // the policy picks again among the versions that load
      // Unload what the policy no longer wants, now that what it wants is serving. Requests in
      // flight keep their version alive (shared_ptr) and finish on it.
      std::vector<std::shared_ptr<const Loaded>> dropped;
      {
        std::lock_guard<std::mutex> lock(m.mu);
        for (auto it = m.serving.begin(); it != m.serving.end();) {
          if (std::find(want.begin(), want.end(), it->first) == want.end()) {
            m.status[it->first] = VersionStatus{"END", "OK", ""};
            dropped.push_back(std::move(it->second));
            it = m.serving.erase(it);
          } else {
            ++it;
          }
        }
      }
      return;  // `dropped` released here, outside the lock
    }
  }

  void poll_all() {
    std::lock_guard<std::mutex> lock(poll_mu);
    std::map<std::string, std::shared_ptr<Model>> models;
    {
      std::lock_guard<std::mutex> l(models_mu);
      models = by_name;
    }
    for (auto& [name, m] : models) poll_model(*m);
  }

  // Re-reads options.model_config_file; a file that cannot be read or parsed leaves the models
  // as they are (reported on stderr, as TF Serving logs it).
  void reload_config_file() {
    try {
      std::ifstream f(options.model_config_file);
      if (!f) throw NotFound("[serving] cannot read the model config file '" + options.model_config_file + "'");
      std::stringstream ss;
      ss << f.rdbuf();
      reload_config(parse_model_config(ss.str(), options.model_config_file));
      config_error.clear();
    } catch (const std::exception& e) {
      if (config_error != e.what())  // once per new error, not at every poll
        std::fprintf(stderr, "xflow serve: the model config file was not reloaded: %s\n", e.what());
      config_error = e.what();
    }
  }

  // ---- requests ----

  std::shared_ptr<Model> model_or_404(const Target& t, int64_t version) {
    std::shared_ptr<Model> m = find_model(t.model);
    if (!m) throw RequestError(404, "Servable not found for request: " + request_spec(t, version));
    return m;
  }

  std::shared_ptr<const Loaded> resolve(const Target& t) {
    int64_t version = t.version.empty() ? 0 : std::stoll(t.version);
    std::shared_ptr<Model> held = model_or_404(t, version);
    Model& m = *held;
    std::lock_guard<std::mutex> lock(m.mu);
    if (!t.label.empty()) {
      auto l = m.config.labels.find(t.label);
      if (l == m.config.labels.end()) throw RequestError(400, "Unrecognized servable version label: " + t.label);
      version = l->second;
    }
    if (t.version.empty() && t.label.empty()) {
      if (m.serving.empty()) throw RequestError(404, "Servable not found for request: " + request_spec(t, version));
      return m.serving.rbegin()->second;
    }
    auto s = m.serving.find(version);
    if (s == m.serving.end()) throw RequestError(404, "Servable not found for request: " + request_spec(t, version));
    return s->second;
  }

  Response model_status(const Target& t) {
    std::shared_ptr<Model> held = find_model(t.model);
    if (!held) throw RequestError(404, "Could not find any versions of model " + t.model);
    Model& m = *held;
    int64_t version = -1;
    std::lock_guard<std::mutex> lock(m.mu);
    if (!t.label.empty()) {
      auto l = m.config.labels.find(t.label);
      if (l == m.config.labels.end()) throw RequestError(400, "Unrecognized servable version label: " + t.label);
      version = l->second;
    } else if (!t.version.empty()) {
      version = std::stoll(t.version);
    }
    ojson list = ojson::array();
    for (auto s = m.status.rbegin(); s != m.status.rend(); ++s) {
      if (version >= 0 && s->first != version) continue;
      list.push_back({{"version", std::to_string(s->first)},
                      {"state", s->second.state},
                      {"status", {{"error_code", s->second.error_code}, {"error_message", s->second.error_message}}}});
    }
    if (list.empty()) {
      if (version >= 0)
        throw RequestError(404, "Could not find version " + std::to_string(version) + " of model " + t.model);
      throw RequestError(404, "Could not find any versions of model " + t.model);
    }
    return {200, ojson{{"model_version_status", list}}.dump(1), "application/json"};
  }

  Response metadata(const Target& t) {
    std::shared_ptr<const Loaded> l = resolve(t);
    ojson defs = ojson::object();
    for (const std::string& name : l->model.signature_names()) {
      const train::Signature& s = l->model.signature(name);
      // What a request sees: string inputs instead of the numeric inputs their Examples feed;
      // string outputs beside the integer outputs they look up.
      std::map<std::string, std::pair<TensorType, Shape>> ins, outs;
      for (const auto& [key, info] : s.inputs)
        if (!train::fed_by_string_input(s, key)) ins[key] = {info.dtype, info.shape};
      for (const auto& [key, in] : s.string_inputs) ins[key] = {TensorType::string_type(), Shape{-1}};
      for (const auto& [key, info] : s.outputs) outs[key] = {info.dtype, info.shape};
      for (const auto& [key, o] : s.string_outputs) outs[key] = {TensorType::string_type(), s.outputs.at(o.indices).shape};
      auto infos = [&](const std::map<std::string, std::pair<TensorType, Shape>>& m) {
        ojson o = ojson::object();
        for (const auto& [key, info] : m) {
          ojson dims = ojson::array();
          for (int64_t d : info.second) dims.push_back({{"size", std::to_string(d)}, {"name", ""}});
          o[key] = {{"dtype", tf_dtype_enum(info.first)},
                    {"tensor_shape", {{"dim", dims}, {"unknown_rank", false}}},
                    {"name", key}};
        }
        return o;
      };
      defs[name] = {{"inputs", infos(ins)},
                    {"outputs", infos(outs)},
                    {"method_name", "tensorflow/serving/" + s.method_name}};
    }
    ojson out = {{"model_spec", {{"name", t.model}, {"signature_name", ""}, {"version", std::to_string(l->version)}}},
                {"metadata", {{"signature_def", {{"signature_def", defs}}}}}};
    return {200, out.dump(1), "application/json"};
  }

  std::map<std::string, Tensor> run(const Loaded& l, const std::string& sig, const std::map<std::string, Tensor>& in) {
    auto b = l.batchers.find(sig);
    // Only inputs that fit the signature are merged with others (the rest fail on their own).
    bool fits = b != l.batchers.end();
    if (fits) {
      const train::Signature& s = l.model.signature(sig);
      int64_t rows = -1;
      for (const auto& [name, info] : s.inputs) {
        auto it = in.find(name);
        fits = fits && it != in.end() && it->second.dtype() == info.dtype &&
               train::signature_shape_fits(info.shape, it->second.shape()) &&
               (rows < 0 || it->second.shape()[0] == rows);
        if (fits) rows = it->second.shape()[0];
      }
      fits = fits && in.size() == s.inputs.size();
    }
    if (fits)
      return b->second->run(in, [&](const std::map<std::string, Tensor>& merged) {
        RunLimiter::Slot slot(limiter);
        return l.executable(sig, merged.begin()->second.shape()[0]).run(sig, merged);
      });
    RunLimiter::Slot slot(limiter);
    return l.model.run(sig, in);
  }

  const train::Signature& signature_or_400(const Loaded& l, const std::string& sig) {
    const auto& sigs = l.model.meta_graph().signatures();
    auto it = sigs.find(sig);
    if (it == sigs.end()) throw RequestError(400, "Serving signature name: \"" + sig + "\" not found in signature def");
    return it->second;
  }

  Response predict(const Loaded& l, const std::string& body) {
    json doc = parse_request_json(body);
    std::string sig = request_signature_name(doc);
    if (sig.empty()) sig = kDefaultSignature;
    const train::Signature& s = signature_or_400(l, sig);
    PredictInputs in = parse_predict_inputs(doc, l.input_types.at(sig));
    std::map<std::string, Tensor> tensors;
    std::map<std::string, StringTensor> strings;
    for (const auto& [name, h] : in.tensors) {
      if (h.is_string)
        strings.emplace(name, StringTensor(h.strings, h.shape));
      else
        tensors[name] = from_host(h);
    }
    std::map<std::string, Tensor> out = run(l, sig, graph_inputs(s, std::move(tensors), strings));
    std::map<std::string, HostTensor> host;
    for (const auto& [name, t] : out) host[name] = to_host(t);
    for (const auto& [name, t] : string_outputs(s, out)) host[name] = string_host(t);
    return {200, predict_response_json(host, in.format), "application/json"};
  }

  // :classify and :regress. A signature with a string input (TensorFlow's "inputs" of serialized
  // tf.Example) gets the examples serialized into it, parsed by its feature spec; otherwise each
  // example's feature NAME feeds the numeric input NAME as one row.
  std::map<std::string, Tensor> run_examples(const Loaded& l, const std::string& sig, const train::Signature& s,
                                             const std::vector<Example>& examples) {
    const int64_t rows = static_cast<int64_t>(examples.size());
    if (!s.string_inputs.empty()) {
      std::vector<std::string> inputs = train::request_inputs(s);
      // TF Serving's PreProcessClassification / PreProcessRegression.
      if (inputs.size() != 1 || !s.string_inputs.count(inputs[0])) throw RequestError(400, "Expected one input Tensor.");
      std::vector<std::string> serialized;
      serialized.reserve(examples.size());
      for (const Example& ex : examples) {
        io::Example e;
        for (const auto& [name, f] : ex) {
          io::Feature feature;
          switch (f.kind) {
            case JsonFeature::Kind::bytes:
              feature = io::Feature::from_bytes(f.bytes);
              break;
            case JsonFeature::Kind::floats:
              feature = io::Feature::from_floats(f.floats);
              break;
            case JsonFeature::Kind::int64s:
              feature = io::Feature::from_int64s(f.int64s);
              break;
            case JsonFeature::Kind::none:
              break;  // an empty list: TensorFlow's empty Feature
          }
          e.set(name, std::move(feature));
        }
        serialized.push_back(e.serialize());
      }
      std::map<std::string, StringTensor> strings;
      strings.emplace(inputs[0], StringTensor(std::move(serialized), Shape{rows}));
      return run(l, sig, graph_inputs(s, {}, strings));
    }
    std::map<std::string, Tensor> tensors;
    for (const auto& [name, info] : s.inputs) {
      if (info.shape.empty() || info.shape[0] != -1)
        throw RequestError(400, "Input: " + name + " of signature: " + sig +
                                    " has no batch dimension (-1): examples cannot feed it");
      int64_t per_row = 1;
      for (size_t i = 1; i < info.shape.size(); ++i) per_row *= info.shape[i];
      std::vector<double> values;
      for (size_t e = 0; e < examples.size(); ++e) {
        auto f = examples[e].find(name);
        if (f == examples[e].end())
          throw RequestError(400, "Feature: " + name + " is missing in example " + std::to_string(e));
        const JsonFeature& jf = f->second;
        if (jf.kind == JsonFeature::Kind::bytes)
          throw RequestError(400, "Feature: " + name + " of example " + std::to_string(e) +
                                      " holds bytes; signature " + sig +
                                      " takes numbers (it has no string input of serialized Examples)");
        const size_t count = jf.kind == JsonFeature::Kind::floats ? jf.floats.size() : jf.int64s.size();
        if (static_cast<int64_t>(count) != per_row)
          throw RequestError(400, "Feature: " + name + " of example " + std::to_string(e) + " has " +
                                      std::to_string(count) + " values, expecting " + std::to_string(per_row));
        for (float v : jf.floats) values.push_back(v);
        for (int64_t v : jf.int64s) values.push_back(static_cast<double>(v));
      }
      Shape sh = info.shape;
      sh[0] = rows;
      // Features are numbers; the input's dtype decides how they are stored.
      tensors[name] = cast(Tensor::from_vector(values, sh), info.dtype);
    }
    return run(l, sig, tensors);
  }

  Response classify_or_regress(const Loaded& l, const std::string& body, const std::string& method) {
    json doc = parse_request_json(body);
    std::string sig = request_signature_name(doc);
    if (sig.empty()) sig = kDefaultSignature;
    const train::Signature& s = signature_or_400(l, sig);
    if (s.method_name != method)
      throw RequestError(400, "Expected " + std::string(method == "classify" ? "classification" : "regression") +
                                  " signature method_name to be tensorflow/serving/" + method +
                                  ". Was: tensorflow/serving/" + s.method_name);
    std::vector<Example> examples = parse_examples(doc);
    std::map<std::string, Tensor> out = run_examples(l, sig, s, examples);
    std::map<std::string, StringTensor> words = string_outputs(s, out);
    HostTensor hs, hc;
    const size_t n = examples.size();
    std::string body_out;
    if (method == "regress") {
      auto it = out.find("outputs");
      if (it == out.end()) throw RequestError(400, "No regression outputs found in signature: " + sig);
      HostTensor h = to_host(it->second);
      if (h.dtype != DType::float32 || static_cast<size_t>(h.elements()) != n)
        throw RequestError(400, "Expected output Tensor shape to be [" + std::to_string(n) + ", 1] or [" +
                                    std::to_string(n) + "] of float");
      body_out = "{\n    \"results\": [";
      for (size_t i = 0; i < n; ++i) {
        float v;
        std::memcpy(&v, h.data.data() + 4 * i, 4);
        body_out += (i ? ", " : "") + format_float(v);
      }
      return {200, body_out + "]\n}", "application/json"};
    }
    auto scores = out.find("scores");
    auto classes = out.find("classes");
    auto class_words = words.find("classes");  // DT_STRING classes (a vocabulary's), as TensorFlow's
    if (class_words != words.end()) {
      hc = string_host(class_words->second);
    } else if (classes != out.end()) {
      hc = to_host(classes->second);
    }
    const bool have_classes = class_words != words.end() || classes != out.end();
    if (scores == out.end() && !have_classes)
      throw RequestError(400, "Expected classification signature outputs to contain at least one of scores or classes");
    int64_t k = -1;
    if (scores != out.end()) {
      hs = to_host(scores->second);
      if (hs.dtype != DType::float32 || hs.shape.size() != 2 || hs.shape[0] != static_cast<int64_t>(n))
        throw RequestError(400, "Expected Tensor shape: [" + std::to_string(n) + " K] of float for scores");
      k = hs.shape[1];
    }
    if (have_classes) {
      Shape want = hc.shape;
      if (want.size() == 1) hc.shape.push_back(1);
      if (hc.shape.size() != 2 || hc.shape[0] != static_cast<int64_t>(n) || (k >= 0 && hc.shape[1] != k))
        throw RequestError(400, "Expected Tensor shape: [" + std::to_string(n) + " " + std::to_string(k) +
                                    "] for classes");
      k = hc.shape[1];
    }
    body_out = "{\n    \"results\": [\n";
    for (size_t i = 0; i < n; ++i) {
      body_out += i ? ",\n        [" : "        [";
      for (int64_t j = 0; j < k; ++j) {
        std::string label;
        if (hc.is_string) {
          label = hc.strings[i * static_cast<size_t>(k) + static_cast<size_t>(j)];
        } else if (!hc.data.empty()) {
          HostTensor one;
          one.dtype = hc.dtype;
          const size_t es = static_cast<size_t>(dtype_size(hc.dtype));
          one.data.assign(hc.data.begin() + static_cast<std::ptrdiff_t>((i * static_cast<size_t>(k) + static_cast<size_t>(j)) * es),
                          hc.data.begin() + static_cast<std::ptrdiff_t>((i * static_cast<size_t>(k) + static_cast<size_t>(j) + 1) * es));
          std::string v = predict_response_json({{"v", one}}, JsonFormat::columnar);
          // "{\n    \"outputs\": VALUE\n}" -> VALUE
          label = v.substr(16, v.size() - 18);
        }
        std::string score = "0.0";
        if (!hs.data.empty()) {
          float f;
          std::memcpy(&f, hs.data.data() + 4 * (i * static_cast<size_t>(k) + static_cast<size_t>(j)), 4);
          score = format_float(f);
        }
        body_out += j ? ", [" : "[";
        write_json_string(body_out, label);  // the label's bytes, as TF Serving's writer
        body_out += ", " + score + "]";
      }
      body_out += "]";
    }
    return {200, body_out + "\n    ]\n}", "application/json"};
  }

  Response handle(const std::string& method, const std::string& full_path, const std::string& body) {
    const auto t0 = std::chrono::steady_clock::now();
    std::string path = full_path.substr(0, full_path.find('?'));
    std::string api = "other", model_label, version_label;
    Response r;
    try {
      r = route(method, path, body, api, model_label, version_label);
    } catch (const RequestError& e) {
      r = {e.status(), error_json(e.what()), "application/json"};
    } catch (const Error& e) {
      r = {http_status(e.code()), error_json(e.what()), "application/json"};
    } catch (const std::exception& e) {
      r = {500, error_json(e.what()), "application/json"};
    }
    if (api != "other" && api != "metrics") {
      double us = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count();
      metrics.record(model_label, version_label, api, status_name(r.status), us);
    }
    return r;
  }

  Response route(const std::string& method, const std::string& path, const std::string& body, std::string& api,
                 std::string& model_label, std::string& version_label) {
    if (!options.metrics_path.empty() && path == options.metrics_path) {
      api = "metrics";
      if (method != "GET") throw RequestError(405, "Method not allowed: " + method + " " + path);
      return {200, metrics.prometheus_text(), "text/plain; version=0.0.4"};
    }
    const std::string prefix = "/v1/models/";
    if (path.compare(0, 4, "/v1/") != 0) throw RequestError(404, "Not found: " + method + " " + path);
    const RequestError malformed(400, "Malformed request: " + method + " " + path);
    if (path.compare(0, prefix.size(), prefix) != 0) {
      if (path == "/v1/models" && method == "GET") throw RequestError(400, "Missing model name in request.");
      throw malformed;
    }
    std::string rest = path.substr(prefix.size());
    std::string verb;
    if (method == "POST") {
      size_t colon = rest.rfind(':');
      if (colon == std::string::npos || rest.find('/', colon) != std::string::npos) throw malformed;
      verb = rest.substr(colon + 1);
      rest = rest.substr(0, colon);
      if (verb != "predict" && verb != "classify" && verb != "regress") throw malformed;
    } else if (method != "GET") {
      throw malformed;
    }
    // NAME[/versions/V|/labels/L][/metadata]
    std::vector<std::string> parts;
    for (size_t start = 0;;) {
      size_t slash = rest.find('/', start);
      parts.push_back(rest.substr(start, slash == std::string::npos ? std::string::npos : slash - start));
      if (slash == std::string::npos) break;
      start = slash + 1;
    }
    Target t;
    t.model = parts[0];
    if (t.model.empty() || t.model.find(':') != std::string::npos) throw malformed;
    size_t i = 1;
    if (i + 1 < parts.size() + 0 && (parts[i] == "versions" || parts[i] == "labels")) {
      if (parts[i] == "versions") {
        if (!all_digits(parts[i + 1])) throw malformed;
        t.version = parts[i + 1];
      } else {
        if (parts[i + 1].empty()) throw malformed;
        t.label = parts[i + 1];
      }
      i += 2;
    }
    bool want_metadata = false;
    if (i < parts.size()) {
      if (method == "GET" && i + 1 == parts.size() && parts[i] == "metadata")
        want_metadata = true;
      else
        throw malformed;
    }
    if (find_model(t.model)) model_label = t.model;
    if (method == "GET") {
      api = want_metadata ? "metadata" : "status";
      return want_metadata ? metadata(t) : model_status(t);
    }
    api = verb;
    std::shared_ptr<const Loaded> l = resolve(t);
    version_label = std::to_string(l->version);
    if (verb == "predict") return predict(*l, body);
    return classify_or_regress(*l, body, verb);
  }

  // ---- HTTP ----

  void start() {
    if (started) throw FailedPrecondition("[serving] the server is started already");
    started = true;
    poll_all();
    const int threads = http_workers(options.num_threads);
    http.new_task_queue = [threads] { return new httplib::ThreadPool(static_cast<size_t>(threads)); };
    http.set_payload_max_length(options.max_request_bytes);
    http.set_keep_alive_max_count(100000);
    // Headers and body are separate writes: without TCP_NODELAY, Nagle's algorithm holds the body
    // until the client's delayed ACK (40 ms a response).
    http.set_tcp_nodelay(true);
    auto handler = [this](const httplib::Request& req, httplib::Response& res) {
      Response r = handle(req.method, req.path, req.body);
      res.status = r.status;
      res.set_content(r.body, r.content_type.c_str());
    };
    http.Get(".*", handler);
    // POST bodies are read raw, whatever their Content-Type (TF Serving ignores it): httplib
    // would otherwise parse multipart/form-data into parts (400 for a body that is not), and
    // refuse a form-urlencoded body (what `curl -d` sends) over 8 KiB with 413. Its reader looks
    // at the header, so the header is dropped before routing (the Request is httplib's own
    // non-const object, handed over as const).
    http.set_pre_routing_handler([](const httplib::Request& req, httplib::Response&) {
      if (req.method == "POST") const_cast<httplib::Request&>(req).headers.erase("Content-Type");
      return httplib::Server::HandlerResponse::Unhandled;
    });
    http.Post(".*", [this](const httplib::Request& req, httplib::Response& res, const httplib::ContentReader& read) {
      std::string body;
      if (!read([&](const char* data, size_t n) {
            body.append(data, n);
            return true;
          }))
        return;  // httplib set the status (413 over max_request_bytes, 400 for a bad body)
      Response r = handle(req.method, req.path, body);
      res.status = r.status;
      res.set_content(r.body, r.content_type.c_str());
    });
    http.Put(".*", handler);
    http.Delete(".*", handler);
    const size_t max_bytes = options.max_request_bytes;
    http.set_error_handler([max_bytes](const httplib::Request& req, httplib::Response& res) {
      if (!res.body.empty()) return;
      std::string msg = res.status == 413 ? "Request body larger than --max_request_bytes (" +
                                                std::to_string(max_bytes) + " bytes)"
                                          : "HTTP error " + std::to_string(res.status) + " for " + req.method + " " + req.path;
      res.set_content(error_json(msg), "application/json");
    });
    // The listening socket: SO_REUSEADDR (a restart binds while old connections are in
    // TIME_WAIT), not httplib's default SO_REUSEPORT, with which a second server on the same port
    // would bind too and take half the connections. httplib (Debian's build) listens with a
    // backlog of 5; a burst of connections (a load balancer, wrk's 64) overflows it and the
    // dropped SYNs are retried after a second. Listening again on the bound socket sets the
    // backlog to SOMAXCONN (Linux updates a listening socket's backlog in place).
    http.set_socket_options([this](socket_t sock) {
      int yes = 1;
      ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
      listen_fd = sock;
    });
    if (options.port == 0) {
      bound_port = http.bind_to_any_port(options.host);
      if (bound_port <= 0) throw Unavailable("[serving] cannot listen on " + options.host);
    } else {
      if (!http.bind_to_port(options.host, options.port))
        throw Unavailable("[serving] cannot listen on " + options.host + ":" + std::to_string(options.port) +
                          " (is the port in use?)");
      bound_port = options.port;
    }
    if (listen_fd < 0 || ::listen(listen_fd, SOMAXCONN) != 0)
      throw Unavailable("[serving] cannot set the listen backlog of " + options.host + ":" + std::to_string(bound_port) +
                        ": " + std::strerror(errno));
    listener = std::thread([this] {
      http.listen_after_bind();
      listen_returned = true;
    });
    poller = std::thread([this] {
      std::unique_lock<std::mutex> lock(stop_mu);
      const auto wait = std::chrono::duration<double>(std::max(0.001, options.poll_wait_seconds));
      using clock = std::chrono::steady_clock;
      const bool watch_config = !options.model_config_file.empty() && options.model_config_file_poll_wait_seconds > 0;
      const auto config_wait = std::chrono::duration_cast<clock::duration>(
          std::chrono::duration<double>(std::max(0.001, options.model_config_file_poll_wait_seconds)));
      auto next_config = clock::now() + config_wait;
      while (!stopping) {
        if (stop_cv.wait_for(lock, watch_config ? std::min<clock::duration>(std::chrono::duration_cast<clock::duration>(wait), config_wait) : std::chrono::duration_cast<clock::duration>(wait),
                             [this] { return stopping; }))
          break;
        lock.unlock();
        if (watch_config && clock::now() >= next_config) {
          next_config = clock::now() + config_wait;
          reload_config_file();
        }
        poll_all();
        lock.lock();
      }
    });
  }

  void stop() {
    {
      std::lock_guard<std::mutex> lock(stop_mu);
      if (stopping) return;
      stopping = true;
    }
    stop_cv.notify_all();
    if (listener.joinable()) {
      // httplib's stop() only acts on a running server: wait until listen has started (or
      // failed). It closes the listening socket; listen_after_bind returns once the pool's
      // workers have finished the requests they hold.
      while (!http.is_running() && !listen_returned.load()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
      http.stop();
      listener.join();
    }
    if (poller.joinable()) poller.join();
  }
};

Server::Server(ServerOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}
Server::~Server() { stop(); }
void Server::start() { impl_->start(); }
int Server::port() const { return impl_->bound_port; }
void Server::stop() { impl_->stop(); }
void Server::poll() { impl_->poll_all(); }
void Server::reload_config(const std::vector<ModelConfig>& models) { impl_->reload_config(models); }
Response Server::handle(const std::string& method, const std::string& path, const std::string& body) {
  return impl_->handle(method, path, body);
}

}  // namespace xf::serving
