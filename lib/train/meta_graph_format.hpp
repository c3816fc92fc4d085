// Internal: the meta-graph document (docs/meta-graph.md) as plain data, and its JSON reader and
// writer. No Tensor and no op here: the graph stays JSON text (Graph::from_json reads it),
// initial values stay bytes. So the reader, the part that sees untrusted files, builds and is
// fuzzed with lib/core/error.cpp, dtype.cpp and shape.cpp alone (fuzz/fuzz_meta_graph.cpp).
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "xflow/dtype.hpp"
#include "xflow/shape.hpp"

namespace xf::train::format {

constexpr int kSchemaMajor = 1;
constexpr int kSchemaMinor = 1;  // 1.1: signatures' string_inputs, string_outputs

struct Item {
  bool is_op = false;
  std::string name;
  std::vector<int> values;  // a value: exactly one id; an op: any number
};

struct VariableDoc {
  std::string name;
  DType dtype = DType::float32;
  Shape shape;
  bool trainable = true;
  std::vector<std::string> collections;
  bool init_is_graph = false;
  std::vector<unsigned char> init_bytes;  // "value": numel(shape) * dtype_size(dtype) bytes
  std::string init_graph;                 // "graph": graph JSON text
};

struct TensorInfoDoc {
  std::string name;  // the key: the signature's own name of the input or output
  int value = -1;
  DType dtype = DType::float32;
  Shape shape;
};

struct ExampleFeatureDoc {
  std::string input;
  DType dtype = DType::float32;
  std::vector<double> default_value;
};
struct StringInputDoc {
  std::map<std::string, ExampleFeatureDoc> features;
};
struct StringOutputDoc {
  std::string indices;
  std::vector<std::string> vocabulary;
  std::string default_value = "UNK";
};

struct SignatureDoc {
  std::string method_name = "predict";
  std::vector<TensorInfoDoc> inputs, outputs;  // sorted by name
  std::map<std::string, StringInputDoc> string_inputs;
  std::map<std::string, StringOutputDoc> string_outputs;
};

struct Document {
  std::string graph;  // graph JSON text (docs/graph-json.md)
  std::map<std::string, std::vector<Item>> collections;
  std::vector<VariableDoc> variables;
  std::map<std::string, SignatureDoc> signatures;
  std::string saver;  // a JSON object's text, or "" when there is none
  std::vector<std::string> tags;
};

// Reads and checks a document's structure (types, names, sizes, ids not negative). `origin` (a
// path) starts every error message: InvalidArgument "[meta_graph] <origin>: <field>: <what>".
// Anything that needs the graph (ids in range, dtypes of values) is checked by the caller.
Document parse(const std::string& text, const std::string& origin);
// The JSON text of a document (pretty-printed with `indent` >= 0).
std::string write(const Document& doc, int indent = -1);

}  // namespace xf::train::format
