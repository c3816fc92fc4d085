// The model server over real HTTP on 127.0.0.1: models exported by the test, every endpoint of
// TensorFlow Serving's REST API, its errors, version hot swap under load, a broken version beside
// a good one, batching, metrics, `xflow serve` draining on SIGTERM, and DT_STRING signatures
// (serialized tf.Example inputs, {"b64": ...} values, vocabulary and _bytes outputs).
#include <httplib.h>
#include <signal.h>
#include <arpa/inet.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "serving/json_tensor.hpp"
#include "xflow/example.hpp"
#include "xflow/ops.hpp"
#include "xflow/saved_model.hpp"
#include "xflow/serving.hpp"
#include "xflow/session.hpp"
#include "temp_files.hpp"

// ThreadSanitizer: Debian's libcpp-httplib.so is not instrumented, so the acquire of its
// thread-safe static initializations (std::regex objects shared by its threads) is invisible and
// reported as a race inside the library. Races in xflow's own code are still reported.
extern "C" const char* __tsan_default_suppressions() { return "race:libcpp-httplib.so\n"; }

using json = nlohmann::json;
namespace fs = std::filesystem;
using namespace xf;

namespace {

struct TempDir : xf::testing::TempDir {
  TempDir() : xf::testing::TempDir("serving") {}
};

// Version v of a small model: y = x * v (float32, 3 per row), c = argmax(x) (int64), with
// signatures predict (serving_default, "two": a + b), classify and regress; any batch size.
void export_model(const std::string& base, int64_t v) {
  GraphBuilder b;
  Tensor x = b.placeholder(DType::float32, {1, 3}, "x");
  Tensor a = b.placeholder(DType::float32, {1, 2}, "a");
  Tensor bb = b.placeholder(DType::int32, {1, 2}, "b");
  Tensor y = x * static_cast<float>(v);
  Tensor c = argmax(x, 1);
  Tensor two = a + cast(bb, DType::float32);
  Tensor scores = softmax(x);
  Tensor total = sum(x, Axes{1}) * static_cast<float>(v);
  Graph g = b.finish({y, c, two, scores, total});
  auto sig = [&](std::vector<std::pair<std::string, int>> in, std::vector<std::pair<std::string, int>> out,
                 const std::string& method = "predict") {
    train::Signature s = train::make_signature(g, in, out, method);
    train::set_any_batch_size(s);
    return s;
  };
  export_saved_model(base, v, g,
                     {{"serving_default", sig({{"x", b.value_of(x)}}, {{"y", b.value_of(y)}, {"c", b.value_of(c)}})},
                      {"only_y", sig({{"x", b.value_of(x)}}, {{"y", b.value_of(y)}})},
                      {"two", sig({{"a", b.value_of(a)}, {"b", b.value_of(bb)}}, {{"sum", b.value_of(two)}})},
                      {"classify_x", sig({{"x", b.value_of(x)}}, {{"scores", b.value_of(scores)}}, "classify")},
                      {"regress_x", sig({{"x", b.value_of(x)}}, {{"outputs", b.value_of(total)}}, "regress")}});
}

// A version directory whose meta-graph is damaged.
void write_broken_version(const std::string& base, int64_t v) {
  fs::create_directories(base + "/" + std::to_string(v) + "/variables");
  std::ofstream(base + "/" + std::to_string(v) + "/saved_model.json") << "{\"not\": \"a meta-graph\"";
}

struct Reply {
  int status = 0;
  json body;
  std::string text;
};

Reply request(int port, const std::string& method, const std::string& path, const std::string& body = "") {
  httplib::Client cli("127.0.0.1", port);
  cli.set_read_timeout(60, 0);
  httplib::Result r = method == "GET" ? cli.Get(path.c_str()) : cli.Post(path.c_str(), body, "application/json");
  Reply out;
  if (!r) return out;  // status 0: no answer
  out.status = r->status;
  out.text = r->body;
  try {
    out.body = json::parse(r->body);
  } catch (const json::exception&) {
  }
  return out;
}

std::string error_of(const Reply& r) { return r.body.is_object() && r.body.contains("error") ? r.body["error"].get<std::string>() : r.text; }

serving::ServerOptions options_for(const std::string& base, const std::string& name = "m") {
  serving::ServerOptions o;
  o.port = 0;
  o.poll_wait_seconds = 3600;  // the tests poll by hand, unless they say otherwise
  o.load_retry_interval_micros = 1000;  // a broken version is retried (5 times) 1 ms apart
  o.models.push_back({name, base, {}, {}});
  return o;
}

// The backlog (the accept queue's limit) of the TCP socket listening on 127.0.0.1:port, as the
// kernel reports it (sock_diag: what `ss -ltn` prints as Send-Q); -1 when there is none.
int listen_backlog(int port) {
  int fd = ::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
  if (fd < 0) return -2;
  struct {
    nlmsghdr nlh;
    inet_diag_req_v2 req;
  } msg{};
  msg.nlh.nlmsg_len = sizeof(msg);
  msg.nlh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
  msg.nlh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  msg.req.sdiag_family = AF_INET;
  msg.req.sdiag_protocol = IPPROTO_TCP;
  msg.req.idiag_states = 1u << 10;  // TCP_LISTEN
  int found = -1;
  if (::send(fd, &msg, sizeof(msg), 0) == static_cast<ssize_t>(sizeof(msg))) {
    std::vector<char> buf(1 << 16);
    for (bool done = false; !done;) {
      ssize_t n = ::recv(fd, buf.data(), buf.size(), 0);
      if (n <= 0) break;
      for (auto* h = reinterpret_cast<nlmsghdr*>(buf.data()); NLMSG_OK(h, static_cast<unsigned>(n)); h = NLMSG_NEXT(h, n)) {
        if (h->nlmsg_type == NLMSG_DONE || h->nlmsg_type == NLMSG_ERROR) {
          done = true;
          break;
        }
        const auto* d = static_cast<const inet_diag_msg*>(NLMSG_DATA(h));
        if (ntohs(d->id.idiag_sport) == port && d->id.idiag_src[0] == htonl(INADDR_LOOPBACK))
          found = static_cast<int>(d->idiag_wqueue);  // a listening socket's maximum backlog
      }
    }
  }
  ::close(fd);
  return found;
}

// A plain TCP connection to 127.0.0.1:port (blocking, 5 s receive timeout).
int connect_to(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  timeval tv{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// Sends one keep-alive HTTP request on fd; returns the status line and body ("" on a timeout).
std::string http_exchange(int fd, const std::string& method, const std::string& path, const std::string& body = "",
                          const std::string& content_type = "application/json") {
  std::string req = method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
  if (method == "POST")
    req += "Content-Type: " + content_type + "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
  req += "\r\n" + body;
  if (::send(fd, req.data(), req.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(req.size())) return "";
  std::string got;
  char buf[4096];
  for (;;) {
    size_t head = got.find("\r\n\r\n");
    if (head != std::string::npos) {
      size_t cl = got.find("Content-Length: ");
      if (cl != std::string::npos && cl < head) {
        size_t len = std::stoul(got.substr(cl + 16));
        if (got.size() >= head + 4 + len) return got.substr(0, got.find("\r\n")) + "\n" + got.substr(head + 4, len);
      }
    }
    ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
    if (n <= 0) return "";
    got.append(buf, static_cast<size_t>(n));
  }
}

}  // namespace

TEST_CASE("serving: status, metadata and predict in the row and columnar formats", "[serving]") {
  TempDir dir;
  export_model(dir / "m", 1);
  export_model(dir / "m", 2);
  serving::Server server(options_for(dir / "m"));
  server.start();
  const int port = server.port();
  REQUIRE(port > 0);

  // Latest policy: version 2 only.
  Reply r = request(port, "GET", "/v1/models/m");
  REQUIRE(r.status == 200);
  REQUIRE(r.body["model_version_status"].size() == 1);
  CHECK(r.body["model_version_status"][0]["version"] == "2");
  CHECK(r.body["model_version_status"][0]["state"] == "AVAILABLE");
  CHECK(r.body["model_version_status"][0]["status"]["error_code"] == "OK");
  CHECK(r.body["model_version_status"][0]["status"]["error_message"] == "");
  CHECK(request(port, "GET", "/v1/models/m/versions/2").status == 200);

  r = request(port, "GET", "/v1/models/m/metadata");
  REQUIRE(r.status == 200);
  CHECK(r.body["model_spec"]["name"] == "m");
  CHECK(r.body["model_spec"]["version"] == "2");
  const json& sd = r.body["metadata"]["signature_def"]["signature_def"]["serving_default"];
  CHECK(sd["method_name"] == "tensorflow/serving/predict");
  CHECK(sd["inputs"]["x"]["dtype"] == "DT_FLOAT");
  CHECK(sd["inputs"]["x"]["tensor_shape"]["dim"][0]["size"] == "-1");
  CHECK(sd["inputs"]["x"]["tensor_shape"]["dim"][1]["size"] == "3");
  CHECK(sd["outputs"]["c"]["dtype"] == "DT_INT64");
  CHECK(r.body["metadata"]["signature_def"]["signature_def"]["classify_x"]["method_name"] ==
        "tensorflow/serving/classify");

  // Row format, several outputs: a list of objects.
  r = request(port, "POST", "/v1/models/m:predict", R"({"instances": [[1.5, -2, 0.1], [0, 7, 3]]})");
  REQUIRE(r.status == 200);
  INFO(r.text);
  CHECK(r.body == json::parse(R"({"predictions": [{"c": 0, "y": [3.0, -4.0, 0.2]}, {"c": 1, "y": [0.0, 14.0, 6.0]}]})"));
  // Floats as TF Serving prints them: shortest that parses back, ".0" on whole numbers.
  CHECK(r.text.find("[3.0, -4.0, 0.2]") != std::string::npos);
  // One output: the plain values.
  r = request(port, "POST", "/v1/models/m/versions/2:predict",
              R"({"signature_name": "only_y", "instances": [[1, 2, 3]]})");
  REQUIRE(r.status == 200);
  CHECK(r.body == json::parse(R"({"predictions": [[2.0, 4.0, 6.0]]})"));
  // Columnar format.
  r = request(port, "POST", "/v1/models/m:predict", R"({"inputs": [[1, 2, 3], [3, 2, 1]]})");
  REQUIRE(r.status == 200);
  CHECK(r.body == json::parse(R"({"outputs": {"c": [2, 0], "y": [[2.0, 4.0, 6.0], [6.0, 4.0, 2.0]]}})"));
  r = request(port, "POST", "/v1/models/m:predict", R"({"signature_name": "only_y", "inputs": {"x": [[1, 1, 1]]}})");
  REQUIRE(r.status == 200);
  CHECK(r.body == json::parse(R"({"outputs": [[2.0, 2.0, 2.0]]})"));
  // Several named inputs, in both formats.
  r = request(port, "POST", "/v1/models/m:predict",
              R"({"signature_name": "two", "instances": [{"a": [0.5, 1], "b": [1, 2]}, {"a": [0, 0], "b": [-3, 4]}]})");
  REQUIRE(r.status == 200);
  CHECK(r.body == json::parse(R"({"predictions": [[1.5, 3.0], [-3.0, 4.0]]})"));
  r = request(port, "POST", "/v1/models/m:predict",
              R"({"signature_name": "two", "inputs": {"a": [[0.5, 1]], "b": [[1, 2]]}})");
  REQUIRE(r.status == 200);
  CHECK(r.body == json::parse(R"({"outputs": [[1.5, 3.0]]})"));
  // A pinned older version is not served under the latest policy.
  r = request(port, "POST", "/v1/models/m/versions/1:predict", R"({"instances": [[1, 2, 3]]})");
  CHECK(r.status == 404);
  CHECK(error_of(r) == "Servable not found for request: Specific(m, 1)");
}

namespace {

// A request that must fail, and how its error is checked (a table row of the error tests).
enum class Match { exact, contains, prefix, status_only };
struct ErrorCase {
  std::string what;  // what the row checks (shown when it fails)
  std::string method, path, body;
  int status;
  Match match;
  std::string error;  // the error message: all of it, a part or its start, per match
};

void check_error_cases(int port, const std::vector<ErrorCase>& cases) {
  for (const ErrorCase& c : cases) {
    INFO(c.what << ": " << c.method << " " << c.path << " " << c.body.substr(0, 200));
    Reply r = request(port, c.method, c.path, c.body);
    CHECK(r.status == c.status);
    switch (c.match) {
      case Match::exact: CHECK(error_of(r) == c.error); break;
      case Match::contains: CHECK(error_of(r).find(c.error) != std::string::npos); break;
      case Match::prefix: CHECK(error_of(r).rfind(c.error, 0) == 0); break;
      case Match::status_only: break;
    }
  }
}

}  // namespace

TEST_CASE("serving: errors as TF Serving gives them", "[serving]") {
  TempDir dir;
  export_model(dir / "m", 1);
  serving::Server server(options_for(dir / "m"));
  server.start();
  const int port = server.port();
  const std::string predict = "/v1/models/m:predict", row = R"({"instances": [[1, 2, 3]]})";
  check_error_cases(port, {
      {"unknown model", "POST", "/v1/models/nope:predict", row, 404, Match::exact,
       "Servable not found for request: Latest(nope)"},
      {"unknown version", "POST", "/v1/models/m/versions/7:predict", row, 404, Match::exact,
       "Servable not found for request: Specific(m, 7)"},
      {"status of an unknown model", "GET", "/v1/models/nope", "", 404, Match::exact,
       "Could not find any versions of model nope"},
      {"status of an unknown version", "GET", "/v1/models/m/versions/9", "", 404, Match::exact,
       "Could not find version 9 of model m"},
      {"metadata of an unknown model", "GET", "/v1/models/nope/metadata", "", 404, Match::exact,
       "Servable not found for request: Latest(nope)"},
      {"truncated JSON", "POST", predict, R"({"instances": [[1, 2, 3]])", 400, Match::prefix, "JSON Parse error: "},
      {"empty body", "POST", predict, "", 400, Match::exact, "JSON Parse error: The document is empty"},
      {"not an object", "POST", predict, "[1, 2]", 400, Match::exact, "JSON Value: [1,2] Is not object"},
      {"both inputs and instances", "POST", predict, R"({"instances": [[1, 2, 3]], "inputs": [[1, 2, 3]]})", 400,
       Match::contains, "Not formatted correctly expecting only one of 'inputs' or 'instances' keys to exist"},
      {"neither inputs nor instances", "POST", predict, R"({"signature_name": "serving_default"})", 400, Match::exact,
       "Missing 'inputs' or 'instances' key"},
      {"no instances", "POST", predict, R"({"instances": []})", 400, Match::contains, "No values in 'instances' array"},
      {"signature_name not a string", "POST", predict, R"({"signature_name": 3, "instances": [[1, 2, 3]]})", 400,
       Match::contains, "'signature_name' key must be a string value."},
      {"unknown signature", "POST", predict, R"({"signature_name": "nope", "instances": [[1, 2, 3]]})", 400,
       Match::exact, "Serving signature name: \"nope\" not found in signature def"},
      // Inconsistent batch: instances of different shapes.
      {"instances of different sizes", "POST", predict, R"({"instances": [[1, 2, 3], [1, 2]]})", 400, Match::exact,
       "Failed to process element: 1 of 'instances' list. Error: INVALID_ARGUMENT: Expecting tensor size: 3 but got: 2"},
      {"instances with different keys", "POST", predict,
       R"({"signature_name": "two", "instances": [{"a": [1, 2], "b": [1, 2]}, {"a": [1, 2]}]})", 400, Match::contains,
       "Failed to process element: 1 of 'instances' list. JSON object: {\"a\":[1,2]} keys must be equal to: a,b"},
      {"a named input missing", "POST", predict, R"({"signature_name": "two", "inputs": {"a": [[1, 2]]}})", 400,
       Match::exact, "Missing named input: b in 'inputs' object."},
      // Wrong dtype.
      {"a string for a float", "POST", predict, R"({"instances": [["a", 2, 3]]})", 400, Match::exact,
       "Failed to process element: 0 of 'instances' list. Error: INVALID_ARGUMENT: JSON Value: \"a\" "
       "Type: String is not of expected type: float"},
      {"a fraction for an int32", "POST", predict,
       R"({"signature_name": "two", "inputs": {"a": [[1, 2]], "b": [[1.5, 2]]}})", 400, Match::exact,
       "JSON Value: 1.5 Type: Number is not of expected type: int32"},
      {"a number beyond float", "POST", predict, R"({"instances": [[1e39, 2, 3]]})", 400, Match::contains,
       "Cannot convert JSON value: 1e+39 to float without loss of precision."},
      {"b64 for a float", "POST", predict, R"({"instances": [{"b64": "AAAA"}]})", 400, Match::contains,
       "is not of expected type: float"},
      // Wrong shape: the signature says (-1, 3).
      {"a row of the wrong size", "POST", predict, R"({"instances": [[1, 2]]})", 400, Match::contains,
       "must be (-1, 3) float32, got (1, 2) float32"},
      {"inputs of the wrong rank", "POST", predict, R"({"inputs": [[[1, 2, 3]]]})", 400, Match::status_only, ""},
      {"ragged inputs", "POST", predict, R"({"inputs": [[1, 2, 3], [4, 5]]})", 400, Match::exact,
       "Encountered list at unexpected size: 2 at level: 1 expected size: 3"},
      // Malformed paths and methods.
      {"unknown verb", "POST", "/v1/models/m:explode", "{}", 400, Match::exact,
       "Malformed request: POST /v1/models/m:explode"},
      {"a version that is not a number", "GET", "/v1/models/m/versions/x", "", 400, Match::status_only, ""},
      {"a path outside /v1/models", "GET", "/elsewhere", "", 404, Match::status_only, ""},
      // Deep nesting is refused before parsing.
      {"deep nesting", "POST", predict, "{\"instances\": " + std::string(100000, '[') + std::string(100000, ']') + "}",
       400, Match::contains, "nesting deeper than 64 levels"},
      // A number beyond a double (found by fuzz_rest_request): a parse error, not a crash.
      {"a number beyond double", "POST", predict, R"({"instances": [[33.3333333E333333000000009551615, 1, 2]]})", 400,
       Match::prefix, "JSON Parse error: "},
  });
  // The server still answers.
  CHECK(request(port, "POST", predict, row).status == 200);
}

TEST_CASE("serving: a SOMAXCONN listen backlog, 64 keep-alive connections at once, the port not shared", "[serving]") {
  TempDir dir;
  export_model(dir / "m", 1);
  serving::Server server(options_for(dir / "m"));
  server.start();
  const int port = server.port();
  // httplib listens with a backlog of 5; the server raises it to SOMAXCONN (the kernel caps it
  // at net.core.somaxconn).
  int cap = SOMAXCONN;
  if (std::ifstream f("/proc/sys/net/core/somaxconn"); f) f >> cap;
  CHECK(listen_backlog(port) == std::min(SOMAXCONN, cap));

  // The worker pool: at least 64 whatever num_threads says (4 per core by default).
  CHECK(serving::http_workers(0) >= 64);
  CHECK(serving::http_workers(0) >= 4 * static_cast<int>(std::thread::hardware_concurrency()));
  CHECK(serving::http_workers(4) == 64);
  CHECK(serving::http_workers(200) == 200);

  // 64 clients open their connections at once, each is answered and keeps its connection open;
  // then each asks again on the same connection. With fewer workers than connections, the
  // extra ones would wait for an idle connection to time out (5 s: the receive timeout).
  const std::string body = R"({"signature_name": "only_y", "instances": [[1, 2, 3]]})";
  std::vector<int> fds(64, -1);
  for (int& fd : fds) fd = connect_to(port);
  int answered = 0;
  for (int round = 0; round < 2; ++round)
    for (int fd : fds) {
      REQUIRE(fd >= 0);
      std::string r = http_exchange(fd, "POST", "/v1/models/m:predict", body);
      if (r.rfind("HTTP/1.1 200", 0) == 0 && r.find("[1.0, 2.0, 3.0]") != std::string::npos) ++answered;
    }
  CHECK(answered == 128);
  for (int fd : fds) ::close(fd);

  // A burst of 300 connections, all in the accept queue before any request: every one answered.
  std::vector<int> burst(300, -1);
  for (int& fd : burst) fd = connect_to(port);
  answered = 0;
  for (int fd : burst)
    if (fd >= 0 && http_exchange(fd, "GET", "/v1/models/m").rfind("HTTP/1.1 200", 0) == 0) ++answered;
  CHECK(answered == 300);
  for (int fd : burst)
    if (fd >= 0) ::close(fd);

  // A second server cannot bind the same port (no SO_REUSEPORT sharing).
  serving::ServerOptions o = options_for(dir / "m");
  o.port = port;
  serving::Server second(o);
  CHECK_THROWS_AS(second.start(), Unavailable);
}

TEST_CASE("serving: request bodies are JSON whatever their Content-Type", "[serving]") {
  TempDir dir;
  export_model(dir / "m", 1);
  serving::Server server(options_for(dir / "m"));
  server.start();
  int fd = connect_to(server.port());
  REQUIRE(fd >= 0);
  const std::string one = R"({"signature_name": "only_y", "instances": [[1, 2, 3]]})";
  // curl -d sends application/x-www-form-urlencoded; httplib alone refused such bodies over 8 KiB.
  std::string big = R"({"signature_name": "only_y", "instances": [)";
  for (int i = 0; i < 1000; ++i) big += std::string(i ? ", " : "") + "[1, 2, 3]";
  big += "]}";
  REQUIRE(big.size() > 8192);
  for (const std::string ct : {"application/x-www-form-urlencoded", "text/plain", "multipart/form-data; boundary=x",
                               "application/octet-stream"}) {
    INFO(ct);
    std::string r = http_exchange(fd, "POST", "/v1/models/m:predict", one, ct);
    CHECK(r.rfind("HTTP/1.1 200", 0) == 0);
    CHECK(r.find("[[1.0, 2.0, 3.0]]") != std::string::npos);
    r = http_exchange(fd, "POST", "/v1/models/m:predict", big, ct);
    CHECK(r.rfind("HTTP/1.1 200", 0) == 0);
    CHECK(json::parse(r.substr(r.find('\n') + 1))["predictions"].size() == 1000);
  }
  ::close(fd);
}

TEST_CASE("serving: NaN, Infinity and -Infinity in request bodies, as TF Serving reads them", "[serving]") {
  TempDir dir;
  export_model(dir / "m", 1);
  serving::Server server(options_for(dir / "m"));
  server.start();
  const int port = server.port();
  Reply r = request(port, "POST", "/v1/models/m:predict",
                    R"({"signature_name": "only_y", "instances": [[NaN, Infinity, -Infinity], [-0.5,NaN,1]]})");
  REQUIRE(r.status == 200);
  CHECK(r.text.find("[NaN, Infinity, -Infinity]") != std::string::npos);
  CHECK(r.text.find("[-0.5, NaN, 1.0]") != std::string::npos);
  r = request(port, "POST", "/v1/models/m:predict", R"({"signature_name": "only_y", "inputs": {"x": [[1, -Infinity, 2]]}})");
  REQUIRE(r.status == 200);
  CHECK(r.text.find("[1.0, -Infinity, 2.0]") != std::string::npos);
  // The words inside strings stay strings; a string where a number belongs is a type error.
  r = request(port, "POST", "/v1/models/m:predict", R"({"signature_name": "only_y", "instances": [["NaN", 1, 2]]})");
  CHECK(r.status == 400);
  CHECK(error_of(r).find(R"(JSON Value: "NaN" Type: String is not of expected type: float)") != std::string::npos);
  r = request(port, "POST", "/v1/models/m:predict", R"({"signature_name": "only_y", "instances": [["x NaN \" Infinity", 1, 2]]})");
  CHECK(r.status == 400);
  // A signature name is a string, never a number.
  r = request(port, "POST", "/v1/models/m:predict", R"({"signature_name": "NaN", "instances": [[1, 2, 3]]})");
  CHECK(r.status == 400);
  CHECK(error_of(r) == R"(Serving signature name: "NaN" not found in signature def)");
  // Other bare words, or NaN for an integer input, stay errors.
  CHECK(request(port, "POST", "/v1/models/m:predict", R"({"instances": [[nan, 1, 2]]})").status == 400);
  CHECK(request(port, "POST", "/v1/models/m:predict", R"({"instances": [[NaNa, 1, 2]]})").status == 400);
  r = request(port, "POST", "/v1/models/m:predict", R"({"signature_name": "two", "instances": [{"a": [1, 2], "b": [NaN, 1]}]})");
  CHECK(r.status == 400);
  // The parser alone: the words are doubles.
  json doc = serving::parse_request_json(R"({"inputs": [NaN, Infinity, -Infinity, "NaN"]})");
  CHECK(std::isnan(doc["inputs"][0].get<double>()));
  CHECK(doc["inputs"][1].get<double>() == INFINITY);
  CHECK(doc["inputs"][2].get<double>() == -INFINITY);
  CHECK(doc["inputs"][3] == "NaN");
}

TEST_CASE("serving: a request larger than max_request_bytes is refused unread", "[serving]") {
  TempDir dir;
  export_model(dir / "m", 1);
  serving::ServerOptions o = options_for(dir / "m");
  o.max_request_bytes = 1000;
  serving::Server server(o);
  server.start();
  std::string big = R"({"instances": [)";
  for (int i = 0; i < 200; ++i) big += std::string(i ? "," : "") + "[1, 2, 3]";
  big += "]}";
  Reply r = request(server.port(), "POST", "/v1/models/m:predict", big);
  CHECK(r.status == 413);
  CHECK(error_of(r).find("larger than --max_request_bytes (1000 bytes)") != std::string::npos);
  CHECK(request(server.port(), "POST", "/v1/models/m:predict", R"({"instances": [[1, 2, 3]]})").status == 200);
}

TEST_CASE("serving: float formatting round-trips; NaN and Infinity as TF Serving writes them", "[serving]") {
  using serving::format_float;
  CHECK(format_float(0.1f) == "0.1");
  CHECK(format_float(3.0f) == "3.0");
  CHECK(format_float(-0.0f) == "-0.0");
  CHECK(format_float(1e6f) == "1e+06");
  CHECK(format_float(std::nanf("")) == "NaN");
  CHECK(format_float(INFINITY) == "Infinity");
  CHECK(format_float(-INFINITY) == "-Infinity");
  CHECK(format_float(0.123456789f) == "0.123456791");
  for (float v : {0.1f, 1.0f / 3.0f, 123456.789f, 1e-30f, 3.4028235e38f, 1.17549435e-38f, 16777217.0f, 0.2f})
    CHECK(std::strtof(format_float(v).c_str(), nullptr) == v);
  CHECK(serving::format_double(0.1) == "0.1");
  CHECK(std::strtod(serving::format_double(1.0 / 3.0).c_str(), nullptr) == 1.0 / 3.0);
}

TEST_CASE("serving: a new version takes over while a client is sending, with no failed request", "[serving]") {
  TempDir dir;
  export_model(dir / "m", 1);
  serving::ServerOptions o = options_for(dir / "m");
  o.poll_wait_seconds = 0.02;
  serving::Server server(o);
  server.start();
  const int port = server.port();
  std::atomic<bool> stop{false};
  std::atomic<int> ok{0}, failed{0}, saw_v3{0};
  std::vector<std::thread> clients;
  for (int k = 0; k < 3; ++k)
    clients.emplace_back([&] {
      httplib::Client cli("127.0.0.1", port);
      while (!stop) {
        auto r = cli.Post("/v1/models/m:predict", R"({"signature_name": "only_y", "instances": [[1, 1, 1]]})",
                          "application/json");
        if (!r || r->status != 200) {
          ++failed;
          continue;
        }
        json j = json::parse(r->body);
        float y = j["predictions"][0][0].get<float>();
        if (y == 1.0f || y == 2.0f || y == 3.0f)
          ++ok;
        else
          ++failed;
        if (y == 3.0f) ++saw_v3;
      }
    });
  // Versions 2 and 3 appear while the clients run; each replaces the one before.
  auto wait_for = [&](const std::string& version) {
    for (int i = 0; i < 1000; ++i) {
      Reply r = request(port, "GET", "/v1/models/m");
      bool found = false;
      for (const json& s : r.body["model_version_status"])
        if (s["version"] == version && s["state"] == "AVAILABLE") found = true;
      if (found) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  };
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  export_model(dir / "m", 2);
  CHECK(wait_for("2"));
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  export_model(dir / "m", 3);
  CHECK(wait_for("3"));
  for (int i = 0; i < 500 && saw_v3 < 5; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  stop = true;
  for (auto& t : clients) t.join();
  CHECK(failed == 0);
  CHECK(ok > 0);
  CHECK(saw_v3 > 0);
  // The old versions are unloaded (state END), the newest serves.
  Reply r = request(port, "GET", "/v1/models/m");
  REQUIRE(r.body["model_version_status"].size() == 3);
  for (const json& s : r.body["model_version_status"])
    CHECK(s["state"] == (s["version"] == "3" ? "AVAILABLE" : "END"));
}

TEST_CASE("serving: a broken version is reported, the good one keeps serving", "[serving]") {
  TempDir dir;
  export_model(dir / "m", 1);
  write_broken_version(dir / "m", 2);
  serving::Server server(options_for(dir / "m"));
  server.start();
  const int port = server.port();
  Reply r = request(port, "GET", "/v1/models/m");
  REQUIRE(r.status == 200);
  REQUIRE(r.body["model_version_status"].size() == 2);
  const json& broken = r.body["model_version_status"][0];
  CHECK(broken["version"] == "2");
  CHECK(broken["state"] == "END");
  CHECK(broken["status"]["error_code"] == "INVALID_ARGUMENT");
  CHECK(broken["status"]["error_message"].get<std::string>().find("saved_model.json") != std::string::npos);
  CHECK(r.body["model_version_status"][1]["state"] == "AVAILABLE");
  r = request(port, "POST", "/v1/models/m:predict", R"({"signature_name": "only_y", "instances": [[1, 2, 3]]})");
  CHECK(r.status == 200);
  CHECK(r.body == json::parse(R"({"predictions": [[1.0, 2.0, 3.0]]})"));
  CHECK(request(port, "GET", "/v1/models/m/versions/2/metadata").status == 404);
  // A later good version replaces both; the broken one stays reported.
  export_model(dir / "m", 3);
  server.poll();
  r = request(port, "POST", "/v1/models/m:predict", R"({"signature_name": "only_y", "instances": [[1, 2, 3]]})");
  CHECK(r.body == json::parse(R"({"predictions": [[3.0, 6.0, 9.0]]})"));
  // A model whose base path has no version yet: not found until one appears.
  serving::Server empty(options_for(dir / "none", "later"));
  empty.start();
  CHECK(request(empty.port(), "GET", "/v1/models/later").status == 404);
  CHECK(request(empty.port(), "POST", "/v1/models/later:predict", R"({"instances": [[1, 2, 3]]})").status == 404);
  export_model(dir / "none", 5);
  empty.poll();
  CHECK(request(empty.port(), "POST", "/v1/models/later:predict", R"({"instances": [[1, 2, 3]]})").status == 200);
}

TEST_CASE("serving: the model config file: several models, version policies, labels", "[serving]") {
  TempDir dir;
  for (int v : {1, 2, 3}) export_model(dir / "a", v);
  export_model(dir / "b", 4);
  const std::string text = "# two models\nmodel_config_list {\n  config {\n    name: 'a'\n    base_path: '" + (dir / "a") +
                           "'\n    model_platform: \"tensorflow\"\n    model_version_policy { specific { versions: 1 versions: 3 } }\n"
                           "    version_labels { key: 'stable' value: 1 }\n    version_labels { key: 'canary' value: 3 }\n  }\n"
                           "  config { name: 'b' base_path: '" + (dir / "b") + "' model_version_policy { all {} } }\n}\n";
  std::vector<serving::ModelConfig> configs = serving::parse_model_config(text, "models.config");
  REQUIRE(configs.size() == 2);
  CHECK(configs[0].policy.kind == serving::VersionPolicy::Kind::specific);
  CHECK(configs[0].policy.versions == std::vector<int64_t>{1, 3});
  CHECK(configs[0].labels.at("canary") == 3);
  CHECK(configs[1].policy.kind == serving::VersionPolicy::Kind::all);
  // The same as JSON (protobuf's JSON mapping).
  json j = {{"model_config_list",
             {{"config",
               {{{"name", "a"},
                 {"basePath", dir / "a"},
                 {"modelVersionPolicy", {{"specific", {{"versions", {1, 3}}}}}},
                 {"versionLabels", {{"stable", "1"}, {"canary", 3}}}},
                {{"name", "b"}, {"base_path", dir / "b"}, {"model_version_policy", {{"latest", {{"num_versions", 2}}}}}}}}}}};
  std::vector<serving::ModelConfig> from_json = serving::parse_model_config(j.dump(), "models.json");
  REQUIRE(from_json.size() == 2);
  CHECK(from_json[0].policy.versions == std::vector<int64_t>{1, 3});
  CHECK(from_json[0].labels.at("stable") == 1);
  CHECK(from_json[1].policy.num_versions == 2);
  CHECK_THROWS_WITH(serving::parse_model_config("model_config_list { config { name: 'x' base_path: '/x' bogus: 1 } }", "f"),
                    Catch::Contains("f:1: config field 'bogus' is not supported"));
  CHECK_THROWS_WITH(serving::parse_model_config("model_config_list {\n config {\n name: 'x'\n", "f"),
                    Catch::Contains("not closed"));

  serving::ServerOptions o;
  o.port = 0;
  o.poll_wait_seconds = 3600;
  o.models = configs;
  o.metrics_path = "/monitoring/prometheus/metrics";
  serving::Server server(o);
  server.start();
  const int port = server.port();
  Reply r = request(port, "GET", "/v1/models/a");
  REQUIRE(r.body["model_version_status"].size() == 2);  // 3 and 1, not 2
  const std::string body = R"({"signature_name": "only_y", "instances": [[1, 1, 1]]})";
  CHECK(request(port, "POST", "/v1/models/a:predict", body).body["predictions"][0][0] == 3.0);
  CHECK(request(port, "POST", "/v1/models/a/versions/1:predict", body).body["predictions"][0][0] == 1.0);
  CHECK(request(port, "POST", "/v1/models/a/versions/2:predict", body).status == 404);
  CHECK(request(port, "POST", "/v1/models/a/labels/stable:predict", body).body["predictions"][0][0] == 1.0);
  CHECK(request(port, "POST", "/v1/models/a/labels/canary:predict", body).body["predictions"][0][0] == 3.0);
  r = request(port, "POST", "/v1/models/a/labels/nope:predict", body);
  CHECK(r.status == 400);
  CHECK(error_of(r) == "Unrecognized servable version label: nope");
  r = request(port, "GET", "/v1/models/a/labels/stable");
  REQUIRE(r.status == 200);
  CHECK(r.body["model_version_status"][0]["version"] == "1");
  CHECK(request(port, "GET", "/v1/models/a/labels/canary/metadata").body["model_spec"]["version"] == "3");
  CHECK(request(port, "POST", "/v1/models/b:predict", body).body["predictions"][0][0] == 4.0);

  // :classify and :regress on signatures of that kind.
  r = request(port, "POST", "/v1/models/a:classify",
              R"({"signature_name": "classify_x", "examples": [{"x": [0, 0, 0]}, {"x": [1, 1, 1]}]})");
  REQUIRE(r.status == 200);
  INFO(r.text);
  REQUIRE(r.body["results"].size() == 2);
  CHECK(r.body["results"][0].size() == 3);
  CHECK(r.body["results"][0][0][0] == "");
  CHECK(std::abs(r.body["results"][0][0][1].get<double>() - 1.0 / 3.0) < 1e-6);
  r = request(port, "POST", "/v1/models/a:regress",
              R"({"signature_name": "regress_x", "context": {"x": [1, 2, 3]}, "examples": [{}, {}]})");
  REQUIRE(r.status == 200);
  CHECK(r.body == json::parse(R"({"results": [18.0, 18.0]})"));
  r = request(port, "POST", "/v1/models/a:regress", R"({"signature_name": "only_y", "examples": [{"x": [1, 2, 3]}]})");
  CHECK(r.status == 400);
  CHECK(error_of(r) == "Expected regression signature method_name to be tensorflow/serving/regress. Was: tensorflow/serving/predict");
  r = request(port, "POST", "/v1/models/a:classify", R"({"signature_name": "classify_x"})");
  CHECK(r.status == 400);
  CHECK(error_of(r).find("When method is classify, key 'examples' is expected and was not found") != std::string::npos);
  // TF Serving parses both methods' examples with one function, whose message says classify.
  r = request(port, "POST", "/v1/models/a:regress", R"({"signature_name": "regress_x"})");
  CHECK(r.status == 400);
  CHECK(error_of(r).find("When method is classify, key 'examples' is expected and was not found") != std::string::npos);

  // Metrics: counts by model, version and status; latency histograms.
  r = request(port, "GET", "/monitoring/prometheus/metrics");
  REQUIRE(r.status == 200);
  CHECK(r.text.find(":tensorflow:serving:request_count{model_name=\"a\",model_version=\"3\",API=\"predict\",entrypoint=\"REST\",status=\"OK\"} 2") !=
        std::string::npos);
  CHECK(r.text.find(":tensorflow:serving:request_count{model_name=\"a\",model_version=\"\",API=\"predict\",entrypoint=\"REST\",status=\"NOT_FOUND\"} 1") !=
        std::string::npos);
  CHECK(r.text.find(":tensorflow:serving:request_latency_bucket{model_name=\"a\",API=\"predict\",entrypoint=\"REST\",le=\"+Inf\"}") !=
        std::string::npos);
  // Unknown model names do not become labels.
  request(port, "POST", "/v1/models/zzz:predict", body);
  CHECK(request(port, "GET", "/monitoring/prometheus/metrics").text.find("zzz") == std::string::npos);
}

TEST_CASE("serving: a version that fails to load is retried; the model config file is re-read", "[serving]") {
  TempDir dir;
  export_model(dir / "a", 1);
  // Version 2 is damaged when the server starts and repaired during its retries: it serves.
  write_broken_version(dir / "a", 2);
  serving::ServerOptions o = options_for(dir / "a", "a");
  o.max_num_load_retries = 1000;
  o.load_retry_interval_micros = 20000;
  o.poll_wait_seconds = 3600;
  std::thread fixer([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    fs::remove_all(dir / "a/2");
    export_model(dir / "a", 2);
  });
  serving::Server server(o);
  server.start();  // loads (retrying version 2) before it listens
  fixer.join();
  const int port = server.port();
  Reply r = request(port, "GET", "/v1/models/a");
  REQUIRE(r.body["model_version_status"].size() == 1);
  CHECK(r.body["model_version_status"][0]["version"] == "2");
  CHECK(r.body["model_version_status"][0]["state"] == "AVAILABLE");
  // With no retries left, a broken version is reported at once (END, its error).
  write_broken_version(dir / "a", 3);
  serving::ServerOptions once = options_for(dir / "a", "a");
  once.max_num_load_retries = 0;
  once.load_retry_interval_micros = 60000000;  // never waited for
  const auto t0 = std::chrono::steady_clock::now();
  serving::Server quick(once);
  quick.start();
  CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(30));
  r = request(quick.port(), "GET", "/v1/models/a/versions/3");
  REQUIRE(r.status == 200);
  CHECK(r.body["model_version_status"][0]["state"] == "END");
  CHECK(r.body["model_version_status"][0]["status"]["error_code"] == "INVALID_ARGUMENT");

  // The config file: rewriting it adds model b and removes a.
  export_model(dir / "b", 7);
  const std::string file = dir / "models.config";
  std::ofstream(file) << "model_config_list { config { name: 'a' base_path: '" << (dir / "a") << "' } }\n";
  serving::ServerOptions c;
  c.port = 0;
  c.poll_wait_seconds = 3600;
  c.load_retry_interval_micros = 1000;
  c.models = serving::parse_model_config("model_config_list { config { name: 'a' base_path: '" + (dir / "a") + "' } }");
  c.model_config_file = file;
  c.model_config_file_poll_wait_seconds = 0.05;
  serving::Server watched(c);
  watched.start();
  const int wp = watched.port();
  const std::string body = R"({"signature_name": "only_y", "instances": [[1, 1, 1]]})";
  CHECK(request(wp, "POST", "/v1/models/b:predict", body).status == 404);
  {
    std::ofstream f(file + ".tmp");
    f << "model_config_list { config { name: 'b' base_path: '" << (dir / "b") << "' } }\n";
  }
  fs::rename(file + ".tmp", file);
  int status = 0;
  for (int i = 0; i < 600 && status != 200; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    status = request(wp, "POST", "/v1/models/b:predict", body).status;
  }
  CHECK(status == 200);
  CHECK(request(wp, "POST", "/v1/models/b:predict", body).body["predictions"][0][0] == 7.0);
  CHECK(request(wp, "POST", "/v1/models/a:predict", body).status == 404);
  CHECK(request(wp, "GET", "/v1/models/a").status == 404);
  // A damaged file leaves the models as they are.
  std::ofstream(file) << "model_config_list { config { name: ";
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  CHECK(request(wp, "POST", "/v1/models/b:predict", body).status == 200);
  // reload_config directly: both models, b keeps its loaded version.
  watched.reload_config(serving::parse_model_config("model_config_list { config { name: 'a' base_path: '" + (dir / "a") +
                                                    "' } config { name: 'b' base_path: '" + (dir / "b") + "' } }"));
  CHECK(request(wp, "POST", "/v1/models/a:predict", body).status == 200);
  CHECK(request(wp, "POST", "/v1/models/b:predict", body).status == 200);
  CHECK_THROWS_AS(watched.reload_config({{"x", dir / "b", {}, {}}, {"x", dir / "a", {}, {}}}), InvalidArgument);
  CHECK(request(wp, "POST", "/v1/models/a:predict", body).status == 200);
}

TEST_CASE("serving: batching merges concurrent requests, each gets its own rows", "[serving]") {
  TempDir dir;
  export_model(dir / "m", 2);
  serving::ServerOptions o = options_for(dir / "m");
  o.enable_batching = true;
  o.batching.max_batch_size = 8;
  o.batching.batch_timeout_micros = 2000;
  serving::Server server(o);
  server.start();
  const int port = server.port();
  std::atomic<int> wrong{0};
  std::vector<std::thread> clients;
  for (int k = 0; k < 8; ++k)
    clients.emplace_back([&, k] {
      httplib::Client cli("127.0.0.1", port);
      for (int i = 0; i < 20; ++i) {
        const int rows = 1 + (k + i) % 3;
        json in = json::array();
        for (int r = 0; r < rows; ++r) in.push_back({k, i, r});
        auto res = cli.Post("/v1/models/m:predict", json{{"instances", in}}.dump(), "application/json");
        if (!res || res->status != 200) {
          ++wrong;
          continue;
        }
        json j = json::parse(res->body)["predictions"];
        if (j.size() != static_cast<size_t>(rows)) ++wrong;
        for (int r = 0; r < rows && r < static_cast<int>(j.size()); ++r)
          if (j[r]["y"] != json({2.0 * k, 2.0 * i, 2.0 * r})) ++wrong;
      }
    });
  for (auto& t : clients) t.join();
  CHECK(wrong == 0);
  // A lone request runs at once: it does not wait batch_timeout_micros for company (TF Serving
  // would). With a timeout of 3 s, ten requests one after the other take far less than one.
  {
    serving::ServerOptions slow = options_for(dir / "m");
    slow.enable_batching = true;
    slow.batching.batch_timeout_micros = 3000000;
    serving::Server lone(slow);
    lone.start();
    const auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < 10; ++i)
      CHECK(request(lone.port(), "POST", "/v1/models/m:predict", R"({"instances": [[1, 2, 3]]})").status == 200);
    CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(3));
  }
  // A bad request in a batch fails alone.
  CHECK(request(port, "POST", "/v1/models/m:predict", R"({"instances": [[1, 2]]})").status == 400);
}

TEST_CASE("serving: a model rebuilt for a batch size runs its rows in one run, as the slices do", "[serving]") {
  TempDir dir;
  export_model(dir / "m", 3);
  SavedModel base = load_saved_model(dir / "m/3");
  SavedModel b8 = base.with_batch_size(8);
  CHECK(b8.meta_graph().signatures().size() == base.meta_graph().signatures().size());
  for (int64_t rows : {1, 5, 8, 13}) {
    std::vector<float> xs;
    for (int64_t i = 0; i < rows * 3; ++i) xs.push_back(static_cast<float>((i * 37) % 11) - 4.5f);
    std::map<std::string, Tensor> in{{"x", Tensor::from_vector(xs, {rows, 3})}};
    INFO(rows);
    for (const std::string sig : {"serving_default", "classify_x", "regress_x"}) {
      auto want = base.run(sig, in);  // slices of the exported batch of 1
      auto got = b8.run(sig, in);     // one run of 8 rows (13: two)
      REQUIRE(got.size() == want.size());
      for (const auto& [name, t] : want) {
        CHECK(got[name].shape() == t.shape());
        CHECK(allclose(got[name], t, 1e-6, 1e-6));
      }
    }
  }
  CHECK_THROWS_AS(base.with_batch_size(0), InvalidArgument);
  // A graph whose reshape fixes the batch cannot be rebuilt.
  GraphBuilder b;
  Tensor x = b.placeholder(DType::float32, {1, 4}, "x");
  Tensor y = reshape(x, {1, 2, 2}) * 2.0f;
  Graph g = b.finish({y});
  train::Signature s = train::make_signature(g, {{"x", b.value_of(x)}}, {{"y", b.value_of(y)}});
  train::set_any_batch_size(s);
  export_saved_model(dir / "fixed", 1, g, {{"serving_default", s}});
  SavedModel fixed = load_saved_model(dir / "fixed/1");
  CHECK_THROWS_WITH(fixed.with_batch_size(4), Catch::Contains("cannot run 4 rows"));
  // The server still batches it, slice by slice.
  serving::ServerOptions o = options_for(dir / "fixed");
  o.enable_batching = true;
  serving::Server server(o);
  server.start();
  Reply r = request(server.port(), "POST", "/v1/models/m:predict", R"({"instances": [[1, 2, 3, 4], [5, 6, 7, 8]]})");
  REQUIRE(r.status == 200);
  CHECK(r.body == json::parse(R"({"predictions": [[[2.0, 4.0], [6.0, 8.0]], [[10.0, 12.0], [14.0, 16.0]]]})"));
}

TEST_CASE("serving: xflow serve drains the requests in flight on SIGTERM and exits 0", "[serving]") {
  TempDir dir;
  export_model(dir / "m", 1);
  const std::string out_file = dir / "out.txt";
  pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    std::freopen(out_file.c_str(), "w", stdout);
    const std::string base = "--model_base_path=" + (dir / "m");
    ::execl(XFLOW_BIN, XFLOW_BIN, "serve", "--model_name=m", base.c_str(), "--rest_api_port=0", nullptr);
    std::_Exit(127);
  }
  int port = 0;
  for (int i = 0; i < 3000 && port == 0; ++i) {
    std::ifstream f(out_file);
    std::string line;
    while (std::getline(f, line)) {
      auto p = line.find("http://127.0.0.1:");
      if (p != std::string::npos) port = std::atoi(line.c_str() + p + 17);
    }
    if (!port) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  REQUIRE(port > 0);
  // A request is in flight when SIGTERM arrives: on a connection the server has accepted (a
  // first request answered on it), the next request's headers and half its body are sent, then
  // SIGTERM, then the rest of the body. The server finishes it, answers it in full, and exits 0.
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  auto send_all = [&](const std::string& data) {
    size_t done = 0;
    while (done < data.size()) {
      ssize_t n = ::send(fd, data.data() + done, data.size() - done, MSG_NOSIGNAL);
      if (n <= 0) return false;
      done += static_cast<size_t>(n);
    }
    return true;
  };
  // Reads one response (Content-Length framed); returns its status line and body.
  std::string pending;
  auto read_response = [&](std::string& body) {
    std::string status_line;
    char buf[65536];
    for (;;) {
      size_t end = pending.find("\r\n\r\n");
      if (end != std::string::npos) {
        size_t cl = pending.find("Content-Length: ");
        size_t len = cl == std::string::npos ? 0 : std::stoul(pending.substr(cl + 16));
        if (pending.size() >= end + 4 + len) {
          status_line = pending.substr(0, pending.find("\r\n"));
          body = pending.substr(end + 4, len);
          pending.erase(0, end + 4 + len);
          return status_line;
        }
      }
      ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) return status_line;
      pending.append(buf, static_cast<size_t>(n));
    }
  };
  std::string body;
  REQUIRE(send_all("GET /v1/models/m HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"));
  REQUIRE(read_response(body) == "HTTP/1.1 200 OK");
  std::string big = R"({"signature_name": "only_y", "instances": [)";
  for (int i = 0; i < 2000; ++i) big += std::string(i ? "," : "") + "[1, 2, 3]";
  big += "]}";
  const size_t half = big.size() / 2;
  REQUIRE(send_all("POST /v1/models/m:predict HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                   "Content-Length: " + std::to_string(big.size()) + "\r\n\r\n" + big.substr(0, half)));
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  ::kill(pid, SIGTERM);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  REQUIRE(send_all(big.substr(half)));
  CHECK(read_response(body) == "HTTP/1.1 200 OK");
  ::close(fd);
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  json reply = json::parse(body, nullptr, false);
  REQUIRE(reply.is_object());
  CHECK(reply["predictions"].size() == 2000);
  CHECK(reply["predictions"][1999] == json({1.0, 2.0, 3.0}));
  std::ifstream f(out_file);
  std::string all((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  CHECK(all.find("SIGTERM: finishing the requests in flight") != std::string::npos);
  CHECK(all.find("stopped") != std::string::npos);
  // The port is closed now.
  CHECK(request(port, "GET", "/v1/models/m").status == 0);
}

namespace {

const std::vector<std::string> kAnimals = {"cat", "dog", "bird"};

// A model whose signatures take and give DT_STRING: x (float32, 3 per row) and k (int32, 1 per
// row) are parsed from serialized tf.Examples ("x" required, "k" default 2); the class is
// argmax(x) through the vocabulary cat, dog, bird.
//   serving_default (classify): inputs "inputs" -> scores (max softmax, (N, 1)), class_ids, classes
//   regress_strings (regress):  inputs "inputs" -> outputs = sum(x + k)
//   parse (predict):            examples -> ids, label
//   bytes (predict):            x (numeric) -> ids, label_bytes
//   mixed (regress):            inputs (x only) and k (numeric) -> outputs
void export_string_model(const std::string& base, int64_t v) {
  GraphBuilder b;
  Tensor x = b.placeholder(DType::float32, {1, 3}, "x");
  Tensor k = b.placeholder(DType::int32, {1, 1}, "k");
  Tensor shifted = x + cast(k, DType::float32);
  Tensor top = max(softmax(shifted), Axes{1}, true);
  Tensor ids = argmax(x, 1);
  Tensor total = sum(shifted, Axes{1});
  Graph g = b.finish({top, ids, total});
  auto sig = [&](std::vector<std::pair<std::string, int>> in, std::vector<std::pair<std::string, int>> out,
                 const std::string& method) {
    train::Signature s = train::make_signature(g, in, out, method);
    train::set_any_batch_size(s);
    return s;
  };
  train::StringInput examples;
  examples.features["x"] = {"x", DType::float32, {}};
  examples.features["k"] = {"k", DType::int64, {2}};
  const std::vector<std::pair<std::string, int>> xk = {{"x", b.value_of(x)}, {"k", b.value_of(k)}};
  train::Signature classify = sig(xk, {{"scores", b.value_of(top)}, {"class_ids", b.value_of(ids)}}, "classify");
  classify.string_inputs["inputs"] = examples;
  classify.string_outputs["classes"] = {"class_ids", kAnimals, "UNK"};
  train::Signature regress = sig(xk, {{"outputs", b.value_of(total)}}, "regress");
  regress.string_inputs["inputs"] = examples;
  train::Signature parse = sig(xk, {{"ids", b.value_of(ids)}}, "predict");
  parse.string_inputs["examples"] = examples;
  parse.string_outputs["label"] = {"ids", kAnimals, "UNK"};
  train::Signature bytes = sig({{"x", b.value_of(x)}}, {{"ids", b.value_of(ids)}}, "predict");
  bytes.string_outputs["label_bytes"] = {"ids", {"cat", "dog"}, "UNK"};
  // Examples feed x only: k is a numeric request input beside them.
  train::Signature mixed = sig(xk, {{"outputs", b.value_of(total)}}, "regress");
  mixed.string_inputs["inputs"].features["x"] = {"x", DType::float32, {}};
  export_saved_model(base, v, g,
                     {{"serving_default", classify}, {"regress_strings", regress}, {"parse", parse}, {"bytes", bytes},
                      {"mixed", mixed}});
}

std::string serialized_example(const std::vector<float>& x, std::optional<int64_t> k = std::nullopt) {
  io::Example e;
  e.set_floats("x", x);
  if (k) e.set_int64s("k", {*k});
  return e.serialize();
}

double top_softmax(const std::vector<double>& x) {
  double m = *std::max_element(x.begin(), x.end()), z = 0;
  for (double v : x) z += std::exp(v - m);
  return 1.0 / z;
}

}  // namespace

TEST_CASE("serving: DT_STRING signatures: metadata, b64 inputs, _bytes outputs, serialized Examples", "[serving]") {
  TempDir dir;
  export_string_model(dir / "m", 1);
  serving::Server server(options_for(dir / "m"));
  server.start();
  const int port = server.port();
  auto post = [&](const std::string& body, const std::string& verb = "predict") {
    return request(port, "POST", "/v1/models/m:" + verb, body);
  };

  // Metadata: the string input instead of x and k; classes beside class_ids.
  Reply r = request(port, "GET", "/v1/models/m/metadata");
  REQUIRE(r.status == 200);
  const json& defs = r.body["metadata"]["signature_def"]["signature_def"];
  CHECK(defs["serving_default"]["inputs"].size() == 1);
  CHECK(defs["serving_default"]["inputs"]["inputs"]["dtype"] == "DT_STRING");
  CHECK(defs["serving_default"]["inputs"]["inputs"]["tensor_shape"]["dim"][0]["size"] == "-1");
  CHECK(defs["serving_default"]["outputs"]["classes"]["dtype"] == "DT_STRING");
  CHECK(defs["serving_default"]["outputs"]["class_ids"]["dtype"] == "DT_INT64");
  CHECK(defs["serving_default"]["outputs"]["scores"]["dtype"] == "DT_FLOAT");
  CHECK(defs["bytes"]["inputs"]["x"]["dtype"] == "DT_FLOAT");
  CHECK(defs["bytes"]["outputs"]["label_bytes"]["dtype"] == "DT_STRING");
  CHECK(defs["serving_default"]["method_name"] == "tensorflow/serving/classify");

  // :classify on serialized Examples: classes from the vocabulary, scores; "k" defaults to 2.
  r = post(R"({"examples": [{"x": [1.0, 5.0, 2.0]}, {"x": [7.5, 0.5, 1.5], "k": 3}, {"x": [0.0, 0.5, 9.0]}]})",
           "classify");
  INFO(r.text);
  REQUIRE(r.status == 200);
  REQUIRE(r.body["results"].size() == 3);
  CHECK(r.body["results"][0][0][0] == "dog");
  CHECK(r.body["results"][1][0][0] == "cat");
  CHECK(r.body["results"][2][0][0] == "bird");
  CHECK(std::abs(r.body["results"][0][0][1].get<double>() - top_softmax({1, 5, 2})) < 1e-6);
  CHECK(std::abs(r.body["results"][1][0][1].get<double>() - top_softmax({7.5, 0.5, 1.5})) < 1e-6);
  // A context feature is in every example unless the example has its own.
  r = post(R"({"context": {"k": 10, "x": [0.0, 0.0, 0.0]}, "examples": [{"x": [1.0, 2.0, 3.0]}, {}]})", "classify");
  REQUIRE(r.status == 200);
  CHECK(r.body["results"][0][0][0] == "bird");
  CHECK(r.body["results"][1][0][0] == "cat");

  // :regress: sum(x + k), k from the Example or its default.
  r = post(R"({"signature_name": "regress_strings", "examples": [{"x": [1.0, 5.0, 2.0]}, {"x": [7.5, 0.5, 1.5], "k": 3}]})",
           "regress");
  INFO(r.text);
  REQUIRE(r.status == 200);
  CHECK(r.body == json::parse(R"({"results": [14.0, 18.5]})"));

  // :predict feeding serialized Examples as {"b64": ...}, row and columnar.
  const std::string e0 = serving::base64_encode(serialized_example({0, 4, 1})),
                    e1 = serving::base64_encode(serialized_example({9, 4, 1}, 5));
  r = post(R"({"signature_name": "parse", "instances": [{"b64": ")" + e0 + R"("}, {"b64": ")" + e1 + R"("}]})");
  INFO(r.text);
  REQUIRE(r.status == 200);
  CHECK(r.body == json::parse(R"({"predictions": [{"ids": 1, "label": "dog"}, {"ids": 0, "label": "cat"}]})"));
  r = post(R"({"signature_name": "parse", "inputs": [{"b64": ")" + e1 + R"("}]})");
  REQUIRE(r.status == 200);
  CHECK(r.body == json::parse(R"({"outputs": {"ids": [0], "label": ["cat"]}})"));
  // The same through the instances' object form.
  r = post(R"({"signature_name": "parse", "instances": [{"examples": {"b64": ")" + e0 + R"("}}]})");
  REQUIRE(r.status == 200);
  CHECK(r.body["predictions"][0]["label"] == "dog");

  // An output named *_bytes is written as {"b64": ...}; an index outside the vocabulary is "UNK".
  r = post(R"({"signature_name": "bytes", "instances": [[0, 1, 0], [0, 0, 1]]})");
  INFO(r.text);
  REQUIRE(r.status == 200);
  CHECK(r.body == json::parse(R"({"predictions": [{"ids": 1, "label_bytes": {"b64": "ZG9n"}},
                                                  {"ids": 2, "label_bytes": {"b64": "VU5L"}}]})"));
  r = post(R"({"signature_name": "bytes", "inputs": [[1, 0, 0]]})");
  REQUIRE(r.status == 200);
  CHECK(r.body == json::parse(R"({"outputs": {"ids": [0], "label_bytes": [{"b64": "Y2F0"}]}})"));

  // With batching on (graphs rebuilt for 2 and 4 rows), the parsed inputs run as any others.
  const std::string three = R"({"examples": [{"x": [1.0, 5.0, 2.0]}, {"x": [7.5, 0.5, 1.5], "k": 3}, {"x": [0.0, 0.5, 9.0]}]})";
  Reply plain = post(three, "classify");
  serving::ServerOptions o = options_for(dir / "m");
  o.enable_batching = true;
  o.batching.max_batch_size = 4;
  serving::Server batching(o);
  batching.start();
  Reply batched = request(batching.port(), "POST", "/v1/models/m:classify", three);
  REQUIRE(batched.status == 200);
  REQUIRE(batched.body["results"].size() == 3);
  for (size_t i = 0; i < 3; ++i) {
    CHECK(batched.body["results"][i][0][0] == plain.body["results"][i][0][0]);
    CHECK(std::abs(batched.body["results"][i][0][1].get<double>() - plain.body["results"][i][0][1].get<double>()) < 1e-6);
  }
}

TEST_CASE("serving: DT_STRING errors as TF Serving gives them", "[serving]") {
  TempDir dir;
  export_string_model(dir / "m", 1);
  serving::Server server(options_for(dir / "m"));
  server.start();
  const int port = server.port();
  auto post = [&](const std::string& body, const std::string& verb = "predict") {
    return request(port, "POST", "/v1/models/m:" + verb, body);
  };
  const std::string predict = "/v1/models/m:predict", classify = "/v1/models/m:classify",
                    regress = "/v1/models/m:regress";
  check_error_cases(port, {
      // Bad base64.
      {"bad base64 in a row", "POST", predict, R"({"signature_name": "parse", "instances": [{"b64": "not base64!"}]})",
       400, Match::exact,
       "Failed to process element: 0 of 'instances' list. Error: INVALID_ARGUMENT: Unable to base64 decode"},
      {"bad base64 padding in a column", "POST", predict, R"({"signature_name": "parse", "inputs": [{"b64": "QUJD="}]})",
       400, Match::exact, "Unable to base64 decode"},
      // b64 on a float input.
      {"b64 for a float row", "POST", predict, R"({"signature_name": "bytes", "instances": [{"b64": "AAAA"}]})", 400,
       Match::exact,
       "Failed to process element: 0 of 'instances' list. Error: INVALID_ARGUMENT: JSON Value: "
       "{\"b64\":\"AAAA\"} Type: Object is not of expected type: float"},
      {"b64 inside a float column", "POST", predict, R"({"signature_name": "bytes", "inputs": [[1, {"b64": "AAAA"}, 3]]})",
       400, Match::exact, "JSON Value: {\"b64\":\"AAAA\"} Type: Object is not of expected type: float"},
      // A number, or an object that is not {"b64": "..."}, for a string input.
      {"a number for a string", "POST", predict, R"({"signature_name": "parse", "inputs": [5]})", 400, Match::exact,
       "JSON Value: 5 Type: Number is not of expected type: string"},
      {"b64 that is not a string", "POST", predict, R"({"signature_name": "parse", "inputs": [[{"b64": 5}]]})", 400,
       Match::exact, "JSON Value: {\"b64\":5} not formatted correctly for base64 data"},
      // Malformed Example bytes (a plain JSON string, and b64).
      {"a string that is no Example", "POST", predict,
       R"({"signature_name": "parse", "instances": ["not an example"]})", 400, Match::contains,
       "Could not parse example input, value: 'not an example'"},
      {"b64 bytes that are no Example", "POST", predict,
       R"({"signature_name": "parse", "instances": [{"b64": ")" + serving::base64_encode("\x0a\xff\x01") + R"("}]})",
       400, Match::contains, "Could not parse example input"},
      // Wrong feature dtype: integers make an int64 list, "x" is float.
      {"an int64 feature for a float one", "POST", classify, R"({"examples": [{"x": [1, 5, 2]}]})", 400, Match::exact,
       "Name: <unknown>, Key: x, Index: 0.  Data types don't match. Data type: int64 but expected type: float"},
      // Missing feature without default ("k" has one).
      {"a required feature missing", "POST", classify, R"({"examples": [{"k": 1}]})", 400, Match::exact,
       "Name: <unknown>, Feature: x (data type: float) is required but could not be found."},
      {"a fixed-length feature of the wrong length", "POST", regress,
       R"({"signature_name": "regress_strings", "examples": [{"x": [1.0, 2.0]}]})", 400, Match::contains,
       "Key: x, Index: 0.  Number of float values != expected."},
      // JSON examples as TF Serving builds them.
      {"a feature list of mixed types", "POST", classify, R"({"examples": [{"x": [1.0, 2]}]})", 400, Match::exact,
       "Unexpected element type in feature: x expecting type: float"},
      {"null in a feature", "POST", classify, R"({"examples": [{"x": [null]}]})", 400, Match::exact,
       "Feature: x has element with unexpected JSON type: Null"},
      {"a uint64 feature value", "POST", classify, R"({"examples": [{"k": 18446744073709551615}]})", 400, Match::exact,
       "Feature: k has uint64 element. Only int64 is supported."},
      {"bad base64 in a feature", "POST", classify, R"({"examples": [{"x": {"b64": "%%"}}]})", 400, Match::exact,
       "Unable to base64 decode"},
      // :regress needs the string input to be the only one (k is a request input of "mixed"); a
      // predict request gives both (below).
      {"regress with a second input", "POST", regress,
       R"({"signature_name": "mixed", "examples": [{"x": [1.0, 5.0, 2.0], "k": 1}]})", 400, Match::exact,
       "Expected one input Tensor."},
  });
  // A bytes feature for a signature without a string input.
  TempDir other;
  export_model(other / "n", 1);
  serving::Server numeric(options_for(other / "n", "n"));
  numeric.start();
  check_error_cases(numeric.port(), {
      {"a bytes feature for a float input", "POST", "/v1/models/n:classify",
       R"({"signature_name": "classify_x", "examples": [{"x": ["a", "b", "c"]}]})", 400, Match::contains,
       "Feature: x of example 0 holds bytes"},
  });
  Reply r = post(R"({"signature_name": "mixed", "instances": [{"inputs": {"b64": ")" +
           serving::base64_encode(serialized_example({1, 5, 2})) + R"("}, "k": [4]}]})");
  INFO(r.text);
  CHECK(r.status == 200);
  CHECK(r.body == json::parse(R"({"predictions": [20.0]})"));
  // The server still answers.
  CHECK(post(R"({"examples": [{"x": [1.0, 5.0, 2.0]}]})", "classify").status == 200);
}

TEST_CASE("serving: string JSON: base64 both ways, strings written byte for byte", "[serving]") {
  std::string out;
  for (const std::string& s : std::vector<std::string>{"", "f", "fo", "foo", "foob", "fooba", "foobar", std::string("\x00\xff\x10", 3)}) {
    std::string enc = serving::base64_encode(s);
    REQUIRE(serving::base64_decode(enc, out));
    CHECK(out == s);
    // Padding is optional.
    while (!enc.empty() && enc.back() == '=') enc.pop_back();
    REQUIRE(serving::base64_decode(enc, out));
    CHECK(out == s);
  }
  CHECK(serving::base64_encode("foobar") == "Zm9vYmFy");
  CHECK(serving::base64_encode("fo") == "Zm8=");
  for (const char* bad : {"Z", "Zm9=v", "Zm9v!", "Zm-_", "Zm8==", "Zm9vY===", "Zh=="})
    CHECK_FALSE(serving::base64_decode(bad, out));
  // A string output: '"', '\\' and control characters escaped; other bytes unchanged (invalid
  // UTF-8 too, as TF Serving's writer leaves it); *_bytes as base64.
  serving::HostTensor t;
  t.is_string = true;
  t.shape = {3};
  t.strings = {"a\"b\\c\n\x01", "caf\xc3\xa9", std::string("\xff\xfe", 2)};
  std::string body = serving::predict_response_json({{"s", t}}, serving::JsonFormat::columnar);
  CHECK(body == "{\n    \"outputs\": [\"a\\\"b\\\\c\\n\\u0001\", \"caf\xc3\xa9\", \"\xff\xfe\"]\n}");
  body = serving::predict_response_json({{"s_bytes", t}}, serving::JsonFormat::row);
  CHECK(json::parse(body) == json::parse(R"({"predictions": [{"b64": "YSJiXGMKAQ=="}, {"b64": "Y2Fmw6k="}, {"b64": "//4="}]})"));
}

TEST_CASE("serving: a signature's string inputs and outputs round-trip through the export and are checked", "[serving]") {
  TempDir dir;
  export_string_model(dir / "m", 1);
  SavedModel m = load_saved_model(dir / "m/1");
  const train::Signature& s = m.signature("serving_default");
  REQUIRE(s.string_inputs.count("inputs"));
  const train::StringInput& in = s.string_inputs.at("inputs");
  CHECK(in.features.at("x").input == "x");
  CHECK(in.features.at("x").dtype == DType::float32);
  CHECK(in.features.at("x").default_value.empty());
  CHECK(in.features.at("k").dtype == DType::int64);
  CHECK(in.features.at("k").default_value == std::vector<double>{2});
  CHECK(s.string_outputs.at("classes").indices == "class_ids");
  CHECK(s.string_outputs.at("classes").vocabulary == kAnimals);
  CHECK(s.string_outputs.at("classes").default_value == "UNK");
  CHECK(train::request_inputs(s) == std::vector<std::string>{"inputs"});
  CHECK(train::request_inputs(m.signature("bytes")) == std::vector<std::string>{"x"});
  // Written again, the meta-graph is the same text.
  CHECK(train::meta_graph_to_json(train::meta_graph_from_json(train::meta_graph_to_json(m.meta_graph()), "again",
                                                                {false, false})) ==
        train::meta_graph_to_json(m.meta_graph()));

  // `xflow inspect` lists them.
  std::string listing;
  {
    FILE* p = ::popen((std::string(XFLOW_BIN) + " inspect '" + (dir / "m/1/saved_model.json") + "'").c_str(), "r");
    REQUIRE(p != nullptr);
    char buf[4096];
    for (size_t got; (got = std::fread(buf, 1, sizeof buf, p)) > 0;) listing.append(buf, got);
    CHECK(::pclose(p) == 0);
  }
  INFO(listing);
  CHECK(listing.find("    input  inputs: string [-1], serialized tf.Example: k -> k (int64, with a default) x -> x "
                     "(float32, required)\n") != std::string::npos);
  CHECK(listing.find("    input  x: float32 [-1, 3] (parsed from Examples)\n") != std::string::npos);
  CHECK(listing.find("    output classes: string, class_ids through a vocabulary of 3 (default \"UNK\")\n") !=
        std::string::npos);

  // What add_signature refuses.
  GraphBuilder b;
  Tensor x = b.placeholder(DType::float32, {1, 3}, "x");
  Tensor fixed = b.placeholder(DType::float32, {1, 3}, "fixed");
  Tensor y = argmax(x + fixed, 1);
  Tensor f = x * 2.0f;
  train::MetaGraph mg(b.finish({y, f}));
  train::Signature base = train::make_signature(mg.graph(), {{"x", b.value_of(x)}, {"fixed", b.value_of(fixed)}},
                                                {{"y", b.value_of(y)}, {"f", b.value_of(f)}});
  base.inputs.at("x").shape[0] = -1;
  base.outputs.at("y").shape[0] = -1;
  auto refused = [&](train::Signature s, const std::string& what) {
    INFO(what);
    CHECK_THROWS_WITH(mg.add_signature("s", s), Catch::Contains(what));
  };
  train::Signature s1 = base;
  s1.string_inputs["in"].features["x"] = {"nope", DType::float32, {}};
  refused(s1, "feeds input 'nope', which the signature does not have");
  s1.string_inputs["in"].features["x"] = {"fixed", DType::float32, {}};
  refused(s1, "whose dimension 0 is not -1");
  s1.string_inputs["in"].features["x"] = {"x", DType::float64, {}};
  refused(s1, "dtype must be float32 or int64");
  s1.string_inputs["in"].features["x"] = {"x", DType::float32, {1, 2}};
  refused(s1, "a default of 2 values for rows of 3");
  s1.string_inputs["in"].features["x"] = {"x", DType::float32, {}};
  s1.string_inputs["in"].features["x2"] = {"x", DType::float32, {}};
  refused(s1, "input 'x' is fed by two features");
  train::Signature s2 = base;
  s2.string_inputs["y"].features["x"] = {"x", DType::float32, {}};
  refused(s2, "string input 'y' has the name of another input or output");
  train::Signature s3 = base;
  s3.string_outputs["words"] = {"f", {"a"}, "UNK"};
  refused(s3, "indices must be int32, int64 or uint8");
  s3.string_outputs["words"] = {"z", {"a"}, "UNK"};
  refused(s3, "looks up output 'z', which the signature does not have");
  s3.string_outputs["words"] = {"y", {"a", std::string("\xff", 1)}, "UNK"};
  refused(s3, "a vocabulary entry is not valid UTF-8");
  // A damaged file names the field.
  std::string text = train::meta_graph_to_json(m.meta_graph());
  std::string damaged = text;
  damaged.replace(damaged.find("\"tf_example\""), 12, "\"csv\"");
  CHECK_THROWS_WITH(train::meta_graph_from_json(damaged, "f.json", {false, false}),
                    Catch::Contains(".string_inputs.inputs.kind: must be \"tf_example\" (serialized tf.Example)"));
}
