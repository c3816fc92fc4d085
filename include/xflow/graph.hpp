// Graphs: what a trace records, as data. A Graph is a DAG of primitive nodes over values
// (placeholders, constants, node outputs); it saves to and loads from JSON (docs/graph-json.md)
// and replays with run().
#pragma once
#include <functional>
#include <iosfwd>
#include <memory>
#include <string>
#include <vector>

#include "xflow/name_scope.hpp"
#include "xflow/tensor.hpp"

namespace xf {

struct GraphValue {
  enum class Kind { placeholder, constant, node_output };
  int id = 0;
  Kind kind = Kind::node_output;
  DType dtype = DType::float32;
  Shape shape;
  int producer = -1;      // node id for node outputs
  int output_index = 0;
  std::string name;       // placeholders: "input0", ...
  Tensor constant;        // constants: the captured value
};

// The primitive a node runs, by its index in the primitive table. Code compares ids; the name is
// for JSON and display (`node.op == "matmul"` compares names, for tests and tools).
class OpId {
 public:
  OpId() = default;
  // The primitive with table index `index`; throws NotFound when there is none.
  explicit OpId(int index);
  // The primitive called `name`; throws NotFound for an unknown name.
  static OpId from_name(const std::string& name);

  int index() const { return index_; }
  bool valid() const { return index_ >= 0; }
  // "matmul"; "?" for a default-constructed id.
  const char* name() const;

  friend bool operator==(OpId a, OpId b) { return a.index_ == b.index_; }
  friend bool operator!=(OpId a, OpId b) { return a.index_ != b.index_; }
  friend bool operator==(OpId a, const std::string& name) { return name == a.name(); }
  friend bool operator!=(OpId a, const std::string& name) { return name != a.name(); }
  friend bool operator==(OpId a, const char* name) { return std::string(a.name()) == name; }
  friend bool operator!=(OpId a, const char* name) { return std::string(a.name()) != name; }
  friend bool operator==(const std::string& name, OpId a) { return a == name; }
  friend bool operator!=(const std::string& name, OpId a) { return a != name; }

 private:
  int index_ = -1;
};
std::ostream& operator<<(std::ostream& os, OpId op);

struct GraphNode {
  int id = 0;
  OpId op;                        // the primitive
  std::shared_ptr<const void> attrs;  // the primitive's Attrs struct (read through the typed
                                      // accessors of lib/graph/node.hpp)
  std::vector<int> inputs;        // value ids
  std::vector<int> outputs;       // value ids
  std::string scope;              // "dense1/matmul" style name scope
  std::string file;               // the user's source location
  int line = 0;
};

// What a pass did, for the viewer and for bisecting a divergence: which pass, what it did
// ("removed", "merged", "folded", "simplified", "fused", "buffer"), the nodes involved (by
// scope name and id in the graph the pass read) and a human-readable detail.
struct GraphProvenance {
  std::string pass;
  std::string action;
  std::vector<int> nodes;
  std::string detail;
};

// A host read of a tensor's value during a trace: replay re-checks that the value is the same.
struct GraphGuard {
  int value = 0;          // the value that was read
  Tensor expected;        // what the trace saw
  std::string file;
  int line = 0;
};

class Graph {
 public:
  std::vector<GraphValue> values;  // indexed by id
  std::vector<GraphNode> nodes;    // in execution (topological) order, indexed by id
  std::vector<int> inputs;         // placeholder value ids, in argument order
  std::vector<int> outputs;        // value ids of the results
  std::vector<GraphGuard> guards;  // optional: host reads to re-check on replay
  std::vector<GraphProvenance> provenance;  // optional: what passes did

  int add_placeholder(DType d, const Shape& s, const std::string& name);
  int add_constant(const Tensor& t);
  // Appends a node running primitive `op`; returns its id. Output values are created from specs.
  int add_node(OpId op, std::shared_ptr<const void> attrs, std::vector<int> inputs,
               const std::vector<std::pair<DType, Shape>>& outputs, std::string scope = "",
               std::string file = "", int line = 0);
  // The same with the primitive named (throws NotFound for an unknown name).
  int add_node(const std::string& op, std::shared_ptr<const void> attrs, std::vector<int> inputs,
               const std::vector<std::pair<DType, Shape>>& outputs, std::string scope = "",
               std::string file = "", int line = 0) {
    return add_node(OpId::from_name(op), std::move(attrs), std::move(inputs), outputs, std::move(scope),
                    std::move(file), line);
  }

  // Checks ids, topological order, arity and that every node's recorded output specs match what
  // its op infers; throws InvalidArgument naming the node.
  void validate() const;

  // Runs the graph on `inputs` (one per placeholder, matching dtype and shape) and returns the
  // outputs. Random nodes draw fresh numbers from the global generator.
  std::vector<Tensor> run(const std::vector<Tensor>& inputs, Loc loc = Loc::current()) const;

  // JSON text (docs/graph-json.md) and back. Malformed input raises InvalidArgument naming the
  // field.
  std::string to_json(int indent = -1) const;
  static Graph from_json(const std::string& text);
  void save(const std::string& path) const;
  static Graph load(const std::string& path);
};

}  // namespace xf
