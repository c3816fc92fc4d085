// Serving exported models over HTTP with TensorFlow Serving's REST API (docs/serving.md).
//
//   xf::serving::ServerOptions o;
//   o.port = 0;                                    // a free port
//   o.models.push_back({"digits", "models/mlp"});  // base_path/<version>/ from export_saved_model
//   xf::serving::Server server(o);
//   server.start();                                // loads the versions, then listens
//   // POST http://127.0.0.1:<server.port()>/v1/models/digits:predict {"instances": [[...64 floats]]}
//   server.stop();                                 // finishes the requests in flight
#pragma once
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace xf::serving {

// Which versions of a model are served (TF Serving's ServableVersionPolicy).
struct VersionPolicy {
  enum class Kind { latest, all, specific };
  Kind kind = Kind::latest;
  int num_versions = 1;             // latest: how many of the newest versions
  std::vector<int64_t> versions;    // specific
};

struct ModelConfig {
  std::string name;
  std::string base_path;  // its numeric children are the versions
  VersionPolicy policy;
  std::map<std::string, int64_t> labels;  // version labels: /v1/models/NAME/labels/LABEL
};

// Parses a model config file: TF Serving's ModelServerConfig in protobuf text format
// (model_config_list { config { name: ... base_path: ... } }) or the same message as JSON.
// InvalidArgument naming the file and line for what it does not understand.
std::vector<ModelConfig> parse_model_config(const std::string& text, const std::string& path = "model config");

struct BatchingOptions {
  int64_t max_batch_size = 32;        // rows merged into one run at most
  int64_t batch_timeout_micros = 1000;  // how long the first request of a batch waits for others
};

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 8501;                          // 0: a free port (see Server::port())
  int num_threads = 0;                      // HTTP workers (0: 4 per core); never fewer than 64 (http_workers)
  double poll_wait_seconds = 1.0;           // how often base paths are scanned for versions
  size_t max_request_bytes = 8u << 20;      // a larger body is refused (413) before it is read
  std::vector<ModelConfig> models;
  bool enable_batching = false;
  BatchingOptions batching;
  std::string metrics_path;                 // e.g. "/monitoring/prometheus/metrics"; empty: off
  int max_num_load_retries = 5;             // a failed load is tried again this many times,
  int64_t load_retry_interval_micros = 60000000;  // this long apart, before it is reported (END)
  std::string model_config_file;            // re-read every model_config_file_poll_wait_seconds when
  double model_config_file_poll_wait_seconds = 0;  // both are set (0: read at start only)
};

struct Response {
  int status = 200;
  std::string body;  // JSON (text for the metrics page)
  std::string content_type = "application/json";
};

// Connections served at once, whatever num_threads says: each open (keep-alive) connection holds
// one HTTP worker, so fewer workers than clients would make the extra clients wait for an idle
// connection to time out.
constexpr int kMinHttpWorkers = 64;
// The HTTP workers a server starts for ServerOptions::num_threads: 4 per core when 0 (as
// tensorflow_model_server's --rest_api_num_threads), at least kMinHttpWorkers.
int http_workers(int num_threads);

class Server {
 public:
  explicit Server(ServerOptions options);
  ~Server();  // stop()
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Loads every model's versions (a version that fails is reported in its status), binds the
  // port, and serves from a thread pool; the base paths are polled every poll_wait_seconds.
  // Unavailable when the port cannot be bound.
  void start();
  int port() const;
  // Stops accepting, lets the requests in flight finish, stops polling. Idempotent.
  void stop();
  // One scan of the base paths now (what the poller does every poll_wait_seconds).
  void poll();
  // Serves these models from now on (what a re-read of the model config file does): new models
  // are loaded before they answer, removed ones stop answering (requests in flight finish), and a
  // model whose name and base path are unchanged keeps its versions under its new policy and
  // labels. InvalidArgument for a model without a name or a name given twice.
  void reload_config(const std::vector<ModelConfig>& models);
  // The REST API without the HTTP transport: what a request with this method, path and body gets.
  Response handle(const std::string& method, const std::string& path, const std::string& body);

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace xf::serving
