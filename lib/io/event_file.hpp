// Internal: TensorFlow's event files (events.out.tfevents.<time>.<host>: a TFRecord file of Event
// protos), encoded and decoded without protobuf types in the interface, so that the summary layer
// writes and reads them through plain structs (docs/tfrecord.md).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace xf::io::events {

inline constexpr const char* kFileVersion = "brain.Event:2";

// A histogram as TensorFlow's HistogramProto holds it: bucket i counts the values in
// (bucket_limit[i-1], bucket_limit[i]] (the first from `min`).
struct Histogram {
  double min = 0, max = 0, num = 0, sum = 0, sum_squares = 0;
  std::vector<double> bucket_limit;
  std::vector<double> bucket;
};

// Serialized Event protos.
std::string file_version_event(double wall_time);
// Summary.Value.simple_value (a float, as in TensorFlow).
std::string scalar_event(double wall_time, int64_t step, const std::string& tag, double value);
// Summary.Value.histo, plugin "histograms".
std::string histogram_event(double wall_time, int64_t step, const std::string& tag, const Histogram& h);
// TensorBoard's text plugin: a scalar DT_STRING tensor, plugin "text".
std::string text_event(double wall_time, int64_t step, const std::string& tag, const std::string& text);

// What the summary reader takes from an Event.
struct Value {
  enum Kind { kScalar, kHistogram, kText };
  Kind kind = kScalar;
  std::string tag;
  double scalar_value = 0;
  Histogram histogram;
  std::string text;
};
struct Event {
  double wall_time = 0;
  int64_t step = 0;
  std::string file_version;  // set on the first event of a file
  std::vector<Value> values;  // the summary values xflow understands; others are skipped
};
// Throws DataLoss when `bytes` is not an Event proto.
Event decode_event(const std::string& bytes);

// TensorBoard's rule: a file is an event file when its name contains "tfevents".
bool is_event_file_name(const std::string& file_name);
// "events.out.tfevents.<seconds, 10 digits>.<host name>".
std::string event_file_name(double wall_time);

}  // namespace xf::io::events
