// `xflow records` (records.hpp). `cat` prints one JSON document per record and line: an Example
// or a SequenceExample in protobuf's JSON mapping (the form json_format.MessageToJson gives:
// int64 values as strings, bytes base64, camelCase names), other records as {"hex": "..."}.
#include "records.hpp"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>

#include "xflow/error.hpp"
#include "xflow/example.hpp"
#include "xflow/tfrecord.hpp"

namespace xflow_cli {

namespace {

using json = nlohmann::json;

std::string base64(const std::string& s) {
  static const char* t = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string o;
  size_t i = 0;
  for (; i + 2 < s.size(); i += 3) {
    uint32_t v = (uint32_t(uint8_t(s[i])) << 16) | (uint32_t(uint8_t(s[i + 1])) << 8) | uint8_t(s[i + 2]);
    o += t[v >> 18];
    o += t[(v >> 12) & 63];
    o += t[(v >> 6) & 63];
    o += t[v & 63];
  }
  if (i < s.size()) {
    uint32_t v = uint32_t(uint8_t(s[i])) << 16;
    if (i + 1 < s.size()) v |= uint32_t(uint8_t(s[i + 1])) << 8;
    o += t[v >> 18];
    o += t[(v >> 12) & 63];
    o += i + 1 < s.size() ? t[(v >> 6) & 63] : '=';
    o += '=';
  }
  return o;
}

std::string hex(const std::string& s) {
  static const char* d = "0123456789abcdef";
  std::string o;
  for (unsigned char c : s) {
    o += d[c >> 4];
    o += d[c & 15];
  }
  return o;
}

// A float as protobuf's JSON prints it: the shortest decimal that reads back as the same float;
// NaN and infinities as strings.
json float_json(float f) {
  if (std::isnan(f)) return "NaN";
  if (std::isinf(f)) return f > 0 ? "Infinity" : "-Infinity";
  char buf[32];
  for (int prec = 6; prec <= 9; ++prec) {
    std::snprintf(buf, sizeof buf, "%.*g", prec, static_cast<double>(f));
    if (std::strtof(buf, nullptr) == f) break;
  }
  return std::strtod(buf, nullptr);
}

// {"value": [...]}, or {} for an empty list (protobuf's JSON leaves empty repeated fields out).
json list_json(json v) { return v.empty() ? json::object() : json{{"value", std::move(v)}}; }

json feature_json(const xf::io::Feature& f) {
  json v = json::array();
  switch (f.kind) {
    case xf::io::Feature::Kind::bytes_list:
      for (const auto& s : f.bytes) v.push_back(base64(s));
      return {{"bytesList", list_json(v)}};
    case xf::io::Feature::Kind::float_list:
      for (float x : f.floats) v.push_back(float_json(x));
      return {{"floatList", list_json(v)}};
    case xf::io::Feature::Kind::int64_list:
      for (int64_t x : f.int64s) v.push_back(std::to_string(x));
      return {{"int64List", list_json(v)}};
    default: return json::object();
  }
}

json features_json(const xf::io::Example& ex) {
  json m = json::object();
  for (const auto& [k, f] : ex.features()) m[k] = feature_json(f);
  return {{"feature", m}};
}

// The record as one line of JSON.
std::string record_json(const std::string& r) {
  try {
    switch (xf::io::classify_record(r)) {
      case xf::io::RecordKind::example: {
        xf::io::Example ex = xf::io::Example::parse(r);
        json j = json::object();
        if (!ex.features().empty()) j["features"] = features_json(ex);
        return j.dump();
      }
      case xf::io::RecordKind::sequence_example: {
        xf::io::SequenceExample se = xf::io::SequenceExample::parse(r);
        json j = json::object();
        if (!se.context().features().empty()) j["context"] = features_json(se.context());
        json lists = json::object();
        for (const auto& [k, steps] : se.feature_lists()) {
          json a = json::array();
          for (const auto& f : steps) a.push_back(feature_json(f));
          lists[k] = a.empty() ? json::object() : json{{"feature", a}};
        }
        j["featureLists"] = {{"featureList", lists}};
        return j.dump();
      }
      default: break;
    }
  } catch (const xf::Error&) {
    // Shaped like an Example but refused by protobuf (a key that is not UTF-8): shown as bytes.
  }
  return json{{"hex", hex(r)}}.dump();
}

}  // namespace

CLI::App* add_records_command(CLI::App& app, RecordsOptions& o) {
  CLI::App* c = app.add_subcommand("records", "TFRecord files: cat (records as JSON Examples), count, verify (every CRC)");
  c->add_option("ACTION", o.action, "cat, count or verify")->required()->check(CLI::IsMember({"cat", "count", "verify"}));
  c->add_option("FILE", o.files, "TFRecord files")->required();
  c->add_option("--compression", o.compression, "GZIP or ZLIB (default: none)")
      ->check(CLI::IsMember({"", "GZIP", "ZLIB"}));
  return c;
}

int cmd_records(const RecordsOptions& o) {
  const xf::io::Compression comp = xf::io::compression_from_name(o.compression);
  for (const std::string& path : o.files) {
    int64_t n = 0;
    try {
      xf::io::TFRecordReader reader(path, comp);
      std::string r;
      while (reader.read(r)) {
        ++n;
        if (o.action == "cat") std::cout << record_json(r) << "\n";
      }
    } catch (const xf::DataLoss& e) {
      // What was read before the damage, then TensorFlow's message.
      if (o.action == "count") std::cout << n << "\n";
      if (o.action == "verify") std::cout << path << ": " << n << " records verified before the damage\n";
      std::cout.flush();
      std::cerr << "xflow: " << path << ": DataLoss: " << e.what() << "\n";
      return 1;
    }
    if (o.action == "count") std::cout << n << "\n";
    if (o.action == "verify") std::cout << path << ": " << n << " records, every CRC verified\n";
  }
  return 0;
}

}  // namespace xflow_cli
