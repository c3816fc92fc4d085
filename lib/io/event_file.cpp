// TensorFlow's event files (lib/io/event_file.hpp): Event, Summary and HistogramProto from
// io/proto/event.proto, restating TensorFlow's.
#include "io/event_file.hpp"

#include <unistd.h>

#include <cmath>
#include <cstring>

#include "io/proto/event.pb.h"
#include "xflow/error.hpp"

namespace xf::io::events {

namespace {

tensorflow::Event base_event(double wall_time, int64_t step) {
  tensorflow::Event e;
  e.set_wall_time(wall_time);
  e.set_step(step);
  return e;
}

std::string serialize(const tensorflow::Event& e) {
  std::string out;
  if (!e.SerializeToString(&out)) throw Internal("[events] cannot serialize an Event");
  return out;
}

// The first value of a numeric scalar tensor (TensorFlow 2 writes scalars this way), if any.
bool tensor_scalar(const tensorflow::TensorProto& t, double& out) {
  const std::string& c = t.tensor_content();
  switch (t.dtype()) {
    case tensorflow::DT_FLOAT:
      if (t.float_val_size() > 0) return out = t.float_val(0), true;
      if (c.size() >= 4) {
        float f;
        std::memcpy(&f, c.data(), 4);
        return out = f, true;
      }
      return false;
    case tensorflow::DT_DOUBLE:
      if (t.double_val_size() > 0) return out = t.double_val(0), true;
      if (c.size() >= 8) {
        std::memcpy(&out, c.data(), 8);
        return true;
      }
      return false;
    case tensorflow::DT_INT32:
      if (t.int_val_size() > 0) return out = t.int_val(0), true;
      return false;
    case tensorflow::DT_INT64:
      if (t.int64_val_size() > 0) return out = static_cast<double>(t.int64_val(0)), true;
      return false;
    default:
      return false;
  }
}

}  // namespace

std::string file_version_event(double wall_time) {
  tensorflow::Event e = base_event(wall_time, 0);
  e.set_file_version(kFileVersion);
  return serialize(e);
}

std::string scalar_event(double wall_time, int64_t step, const std::string& tag, double value) {
  tensorflow::Event e = base_event(wall_time, step);
  tensorflow::Summary::Value* v = e.mutable_summary()->add_value();
  v->set_tag(tag);
  v->set_simple_value(static_cast<float>(value));
  return serialize(e);
}

std::string histogram_event(double wall_time, int64_t step, const std::string& tag, const Histogram& h) {
  tensorflow::Event e = base_event(wall_time, step);
  tensorflow::Summary::Value* v = e.mutable_summary()->add_value();
  v->set_tag(tag);
  v->mutable_metadata()->mutable_plugin_data()->set_plugin_name("histograms");
  tensorflow::HistogramProto* p = v->mutable_histo();
  p->set_min(h.min);
  p->set_max(h.max);
  p->set_num(h.num);
  p->set_sum(h.sum);
  p->set_sum_squares(h.sum_squares);
  for (double x : h.bucket_limit) p->add_bucket_limit(x);
  for (double x : h.bucket) p->add_bucket(x);
  return serialize(e);
}

std::string text_event(double wall_time, int64_t step, const std::string& tag, const std::string& text) {
  tensorflow::Event e = base_event(wall_time, step);
  tensorflow::Summary::Value* v = e.mutable_summary()->add_value();
  v->set_tag(tag);
  v->mutable_metadata()->mutable_plugin_data()->set_plugin_name("text");
  tensorflow::TensorProto* t = v->mutable_tensor();
  t->set_dtype(tensorflow::DT_STRING);
  t->mutable_tensor_shape();  // a scalar: no dimensions
  t->add_string_val(text);
  return serialize(e);
}

Event decode_event(const std::string& bytes) {
  tensorflow::Event e;
  if (!e.ParseFromString(bytes)) throw DataLoss("[events] a record is not an Event proto");
  Event out;
  out.wall_time = e.wall_time();
  out.step = e.step();
  if (e.what_case() == tensorflow::Event::kFileVersion) out.file_version = e.file_version();
  if (e.what_case() != tensorflow::Event::kSummary) return out;
  for (const tensorflow::Summary::Value& v : e.summary().value()) {
    Value val;
    val.tag = v.tag().empty() ? v.node_name() : v.tag();
    const std::string& plugin = v.metadata().plugin_data().plugin_name();
    if (v.value_case() == tensorflow::Summary::Value::kSimpleValue) {
      val.kind = Value::kScalar;
      val.scalar_value = v.simple_value();
    } else if (v.value_case() == tensorflow::Summary::Value::kHisto) {
      const tensorflow::HistogramProto& p = v.histo();
      val.kind = Value::kHistogram;
      val.histogram.min = p.min();
      val.histogram.max = p.max();
      val.histogram.num = p.num();
      val.histogram.sum = p.sum();
      val.histogram.sum_squares = p.sum_squares();
      val.histogram.bucket_limit.assign(p.bucket_limit().begin(), p.bucket_limit().end());
      val.histogram.bucket.assign(p.bucket().begin(), p.bucket().end());
    } else if (v.value_case() == tensorflow::Summary::Value::kTensor) {
      const tensorflow::TensorProto& t = v.tensor();
      if (plugin == "text" && t.dtype() == tensorflow::DT_STRING && t.string_val_size() > 0) {
        val.kind = Value::kText;
        val.text = t.string_val(0);
        // A tensor of several strings (a table in TensorBoard): one per line.
        for (int i = 1; i < t.string_val_size(); ++i) val.text += "\n" + t.string_val(i);
      } else if ((plugin == "scalars" || plugin.empty()) && tensor_scalar(t, val.scalar_value)) {
        val.kind = Value::kScalar;
      } else {
        continue;
      }
    } else {
      continue;  // images, audio, old-style histograms: not shown by xflow
    }
    out.values.push_back(std::move(val));
  }
  return out;
}

bool is_event_file_name(const std::string& file_name) { return file_name.find("tfevents") != std::string::npos; }

std::string event_file_name(double wall_time) {
  char host[256] = {0};
  if (::gethostname(host, sizeof host - 1) != 0 || host[0] == '\0') std::strcpy(host, "localhost");
  char secs[32];
  std::snprintf(secs, sizeof secs, "%010lld", static_cast<long long>(std::floor(wall_time)));
  return std::string("events.out.tfevents.") + secs + "." + host;
}

}  // namespace xf::io::events
