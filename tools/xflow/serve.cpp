// `xflow serve`: exported models over TensorFlow Serving's REST API (docs/serving.md). The flags
// are tensorflow_model_server's where they apply.
#include "serve.hpp"

#include <signal.h>

#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include "xflow/error.hpp"
#include "xflow/serving.hpp"

namespace {

struct ServeFlags {
  std::string model_name = "default", model_base_path, model_config_file, rest_api_host = "127.0.0.1";
  std::string monitoring_path;
  int rest_api_port = 8501, rest_api_num_threads = 0;
  double file_system_poll_wait_seconds = 1;
  size_t max_request_bytes = 8u << 20;
  bool enable_batching = false;
  int64_t max_batch_size = 32, batch_timeout_micros = 1000;
  int max_num_load_retries = 5;
  int64_t load_retry_interval_micros = 60000000;
  double model_config_file_poll_wait_seconds = 0;
};

ServeFlags flags;

}  // namespace

CLI::App* add_serve_command(CLI::App& app) {
  CLI::App* s = app.add_subcommand("serve", "Serve exported models over TensorFlow Serving's REST API");
  s->add_option("--model_name", flags.model_name, "the model's name in the URLs (/v1/models/NAME)")->capture_default_str();
  s->add_option("--model_base_path", flags.model_base_path, "the export directory: its numeric children are the versions");
  s->add_option("--model_config_file", flags.model_config_file,
                "several models: a ModelServerConfig in protobuf text format or JSON (instead of --model_name/--model_base_path)");
  s->add_option("--rest_api_port", flags.rest_api_port, "port; 0 picks a free one (printed)")->capture_default_str();
  s->add_option("--rest_api_host", flags.rest_api_host, "address to listen on")->capture_default_str();
  s->add_option("--rest_api_num_threads", flags.rest_api_num_threads,
                "HTTP worker threads (each holds one open connection); 0: 4 per core; never fewer than 64")
      ->capture_default_str();
  s->add_option("--file_system_poll_wait_seconds", flags.file_system_poll_wait_seconds,
                "how often the base paths are scanned for new versions")
      ->capture_default_str();
  s->add_option("--max_request_bytes", flags.max_request_bytes, "larger request bodies are refused (413) unread")
      ->capture_default_str();
  s->add_flag("--enable_batching", flags.enable_batching, "merge concurrent requests into one run");
  s->add_option("--max_batch_size", flags.max_batch_size, "with --enable_batching: rows per run at most")
      ->capture_default_str();
  s->add_option("--batch_timeout_micros", flags.batch_timeout_micros,
                "with --enable_batching: how long a batch waits for more requests")
      ->capture_default_str();
  s->add_option("--monitoring_path", flags.monitoring_path,
                "serve Prometheus metrics at this path (e.g. /monitoring/prometheus/metrics)");
  s->add_option("--max_num_load_retries", flags.max_num_load_retries,
                "a version that fails to load is tried again this many times before it is reported")
      ->capture_default_str();
  s->add_option("--load_retry_interval_micros", flags.load_retry_interval_micros,
                "the wait between load retries, in microseconds")
      ->capture_default_str();
  s->add_option("--model_config_file_poll_wait_seconds", flags.model_config_file_poll_wait_seconds,
                "re-read --model_config_file this often (models added and removed); 0: only at start")
      ->capture_default_str();
  return s;
}

int run_serve_command() {
  xf::serving::ServerOptions o;
  o.host = flags.rest_api_host;
  o.port = flags.rest_api_port;
  o.num_threads = flags.rest_api_num_threads;
  o.poll_wait_seconds = flags.file_system_poll_wait_seconds;
  o.max_request_bytes = flags.max_request_bytes;
  o.enable_batching = flags.enable_batching;
  o.batching.max_batch_size = flags.max_batch_size;
  o.batching.batch_timeout_micros = flags.batch_timeout_micros;
  o.metrics_path = flags.monitoring_path;
  o.max_num_load_retries = flags.max_num_load_retries;
  o.load_retry_interval_micros = flags.load_retry_interval_micros;
  o.model_config_file = flags.model_config_file;
  o.model_config_file_poll_wait_seconds = flags.model_config_file_poll_wait_seconds;
  if (flags.max_num_load_retries < 0 || flags.load_retry_interval_micros < 0 ||
      flags.model_config_file_poll_wait_seconds < 0) {
    std::cerr << "xflow serve: --max_num_load_retries, --load_retry_interval_micros and "
                 "--model_config_file_poll_wait_seconds must not be negative\n";
    return 2;
  }
  if (flags.rest_api_port < 0 || flags.rest_api_port > 65535) {
    std::cerr << "xflow serve: --rest_api_port must be in 0..65535, got " << flags.rest_api_port << "\n";
    return 2;
  }
  if (!flags.model_config_file.empty()) {
    if (!flags.model_base_path.empty()) {
      std::cerr << "xflow serve: give --model_config_file or --model_base_path, not both\n";
      return 2;
    }
    std::ifstream f(flags.model_config_file);
    if (!f) {
      std::cerr << "xflow serve: cannot read --model_config_file '" << flags.model_config_file << "'\n";
      return 1;
    }
    std::stringstream ss;
    ss << f.rdbuf();
    o.models = xf::serving::parse_model_config(ss.str(), flags.model_config_file);
  } else if (!flags.model_base_path.empty()) {
    xf::serving::ModelConfig m;
    m.name = flags.model_name;
    m.base_path = flags.model_base_path;
    o.models.push_back(m);
  } else {
    std::cerr << "xflow serve: give --model_base_path (with --model_name) or --model_config_file\n";
    return 2;
  }
  // SIGTERM and SIGINT are taken by this thread (sigwait): blocked before any thread starts, so
  // every thread inherits the mask and none is interrupted.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  xf::serving::Server server(o);
  server.start();
  std::cout << "xflow serve: listening on http://" << o.host << ":" << server.port() << "/v1/models/"
            << o.models.front().name << std::endl;
  int sig = 0;
  sigwait(&set, &sig);
  std::cout << "xflow serve: " << (sig == SIGTERM ? "SIGTERM" : "SIGINT")
            << ": finishing the requests in flight" << std::endl;
  server.stop();
  std::cout << "xflow serve: stopped" << std::endl;
  return 0;
}
