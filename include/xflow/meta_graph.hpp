// Meta-graphs, as TensorFlow 1's export_meta_graph / import_meta_graph: one JSON file holding a
// graph, named collections of its values and operations (placeholders, outputs, train ops), the
// variables it uses (dtype, shape, trainable, collections, initial value), named signatures and
// the saver's settings, so that another process can run the graph without the model's C++ code
// (docs/meta-graph.md).
//
//   // exporting process
//   xf::train::MetaGraph mg(graph);
//   mg.add_to_collection("train_var", mg.value(x_id));
//   mg.add_to_collection("train_op", xf::train::group(graph, "train_op"));
//   xf::train::export_meta_graph("model.meta.json", mg);
//
//   // importing process: variables are bound by name (created from the file when missing)
//   xf::train::MetaGraph mg = xf::train::import_meta_graph("model.meta.json");
//   xf::Session sess(mg.graph());
//   auto v = mg.get_collection("train_var");
//   xf::train::run(sess, {mg.get_collection("train_op")[0]}, {{v[0], x}, {v[1], y}});
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "xflow/graph.hpp"
#include "xflow/session.hpp"
#include "xflow/tensor.hpp"
#include "xflow/variable.hpp"

namespace xf::train {

// A member of a collection: one value of the graph (usable as a fetch or a feed), or an
// operation: a named group of values computed for their side effects (TensorFlow's train op, a
// tf.group), usable as a fetch that yields no tensor.
struct GraphItem {
  enum class Kind { value, op };
  Kind kind = Kind::value;
  std::string name;         // a value: its Session name ("x", "accuracy/mean"); an op: its name
  std::vector<int> values;  // a value: its id; an op: the values fetching it computes

  static GraphItem of_value(int id, std::string name = "");
  static GraphItem op(std::string name, std::vector<int> values);
  bool is_op() const { return kind == Kind::op; }
  // The value id of a value item; InvalidArgument for an op.
  int value() const;
};

// An op that runs every side-effect node of `g` (assign, ...): fetching it applies all of the
// graph's updates, as fetching the op minimize() returns does in TensorFlow 1.
GraphItem group(const Graph& g, const std::string& name = "train_op");

// The value ids a Session must fetch for these items (an op's values, a value's id).
std::vector<int> fetch_ids(const std::vector<GraphItem>& items);
// Runs items: one tensor per fetched item (an undefined Tensor for an op, as TensorFlow returns
// None). Feeds must be values (InvalidArgument for an op).
std::vector<Tensor> run(Session& session, const std::vector<GraphItem>& fetches,
                        const std::vector<std::pair<GraphItem, Tensor>>& feeds = {}, Loc loc = Loc::current());

// One input or output of a signature: a graph value with its dtype and shape.
// `shape` is the value's shape, except that dimension 0 may be -1: any batch size. The graph
// then holds a fixed batch (the value's dimension 0) and a loaded SavedModel runs it on as many
// batches as the input's rows need (docs/serving.md).
struct TensorInfo {
  int value = -1;
  DType dtype = DType::float32;
  Shape shape;
};
// Whether a signature's shape fits a graph value's shape: the same rank and dimensions, with -1
// allowed in dimension 0.
bool signature_shape_fits(const Shape& signature_shape, const Shape& value_shape);

// A feature of the serialized tf.Examples a string input carries: parsed on the host (as
// TensorFlow's ParseExample with a FixedLenFeature) into the numeric signature input `input`, one
// row per Example. The feature's shape is the input's shape without dimension 0.
struct ExampleFeature {
  std::string input;                   // a key of Signature::inputs, of batch dimension -1
  DType dtype = DType::float32;        // the feature's list: float32 (float_list) or int64 (int64_list)
  std::vector<double> default_value;   // empty: required; else one value or one per element of a row
};
// A DT_STRING signature input: a 1-D batch of serialized tf.Example (TensorFlow's classify and
// regress signatures' "inputs"), parsed on the host into the numeric inputs its features feed.
// Those inputs are then the graph's, not the request's (docs/serving.md).
struct StringInput {
  std::map<std::string, ExampleFeature> features;  // by feature name
};
// A DT_STRING signature output: the integer output `indices` looked up in a vocabulary on the
// host (TensorFlow's index_to_string); an index outside it gives `default_value`.
struct StringOutput {
  std::string indices;  // a key of Signature::outputs, of an integer dtype
  std::vector<std::string> vocabulary;
  std::string default_value = "UNK";
};

// TensorFlow's SignatureDef: named inputs and outputs and what the computation means.
struct Signature {
  std::string method_name = "predict";  // "predict", "classify" or "regress"
  std::map<std::string, TensorInfo> inputs, outputs;
  // DT_STRING inputs and outputs, handled on the host around the graph's run (graphs hold only
  // numeric tensors). Their names are distinct from those of inputs and outputs.
  std::map<std::string, StringInput> string_inputs;
  std::map<std::string, StringOutput> string_outputs;
};
// The inputs a request gives (TensorFlow's view of the signature): the string inputs and the
// numeric inputs no string input's feature feeds.
std::vector<std::string> request_inputs(const Signature& s);
// Whether numeric input `name` is fed by a string input's feature.
bool fed_by_string_input(const Signature& s, const std::string& name);
// A signature of `g`: inputs and outputs by their signature names and value ids; dtypes and shapes
// are taken from the graph (InvalidArgument for an id out of range).
Signature make_signature(const Graph& g, const std::vector<std::pair<std::string, int>>& inputs,
                         const std::vector<std::pair<std::string, int>>& outputs,
                         const std::string& method_name = "predict");
// Makes dimension 0 of every input and output -1 (any batch size); InvalidArgument for a scalar.
void set_any_batch_size(Signature& s);

// A variable as the meta-graph lists it. Its initial value is a tensor (`initial_value`), or a
// graph with no placeholders whose output 0 computes it (`initializer`, e.g. a traced
// glorot_uniform; it runs when the variable is created by an import).
struct VariableDef {
  std::string name;
  DType dtype = DType::float32;
  Shape shape;
  bool trainable = true;
  std::vector<std::string> collections;  // "global_variables", "trainable_variables", ...
  Tensor initial_value;
  std::shared_ptr<const Graph> initializer;
};

class MetaGraph {
 public:
  MetaGraph() = default;
  explicit MetaGraph(Graph g) : graph_(std::move(g)) {}

  const Graph& graph() const { return graph_; }
  Graph& graph() { return graph_; }

  // Collections: named lists of items, in the order added (TensorFlow's add_to_collection).
  // InvalidArgument for an empty name or an item whose ids are not values of the graph.
  void add_to_collection(const std::string& name, GraphItem item);
  // The items of a collection; an empty list when there is none (as TensorFlow).
  const std::vector<GraphItem>& get_collection(const std::string& name) const;
  std::vector<std::string> collection_names() const;

  // The value `name` names in the graph (a Session name: "x", "dense1/matmul:1"), as an item.
  GraphItem value(const std::string& name) const;
  // A value by id, named by its Session name.
  GraphItem value(int id) const;

  void add_signature(const std::string& name, Signature s);
  // NotFound listing the signatures there are.
  const Signature& signature(const std::string& name) const;
  const std::map<std::string, Signature>& signatures() const { return signatures_; }

  // The variables: after import, every variable the graph uses, bound by name (live handles);
  // before export, filled from the live variables the graph's nodes refer to.
  const std::vector<VariableDef>& variable_defs() const { return variable_defs_; }
  std::vector<VariableDef>& variable_defs() { return variable_defs_; }
  const std::vector<Variable>& variables() const { return variables_; }
  // The bound variable `name`; NotFound.
  Variable variable(const std::string& name) const;
  // Binds the graph's variables by name (bind_variables with variable_defs()) and keeps the
  // handles (variables()). import_meta_graph calls it.
  const std::vector<Variable>& bind(bool create_missing = true);

  // The saver's settings: a JSON object's text (max_to_keep, keep_checkpoint_every_n_hours, ...,
  // whatever the Saver stores), kept as is; "" when there are none. InvalidArgument for text that
  // is not a JSON object.
  void set_saver_def(const std::string& json_object);
  const std::string& saver_def() const { return saver_; }

  // Tags of the meta-graph ("serve", "train"), as TensorFlow's MetaInfoDef.
  std::vector<std::string> tags;

 private:
  Graph graph_;
  std::map<std::string, std::vector<GraphItem>> collections_;
  std::map<std::string, Signature> signatures_;
  std::vector<VariableDef> variable_defs_;
  std::vector<Variable> variables_;
  std::string saver_;
};

struct ExportOptions {
  // The collections to write; empty: all of them (TensorFlow's collection_list=None).
  std::vector<std::string> collection_list;
  // Initializer graphs by variable name (no placeholders, output 0 of the variable's dtype and
  // shape); other variables store their value at export time as their initial value.
  std::map<std::string, Graph> initializers;
  int indent = 1;  // JSON indentation (-1: one line)
};

// How import treats variables.
struct ImportOptions {
  // Create the variables that do not exist in this process from the file's initial values (else
  // NotFound naming them).
  bool create_missing = true;
  // Bind at all: false leaves the graph's variable ids as the file has them (variables() empty),
  // for callers that replace the variables themselves (load_saved_model freezes them).
  bool bind = true;
};

// Writes the meta-graph to `path` (atomically). The variable list is completed from the live
// variables the graph's read_variable/assign nodes refer to (their dtype, shape, trainable flag,
// collections and current value). InvalidArgument for a collection that does not exist in
// collection_list, FailedPrecondition for a variable of the graph that no longer exists and is
// not listed.
void export_meta_graph(const std::string& path, const MetaGraph& mg, const ExportOptions& options = {});
// The JSON text export_meta_graph writes.
std::string meta_graph_to_json(const MetaGraph& mg, const ExportOptions& options = {});

// Reads a meta-graph and binds the graph's variables by name to this process's variables
// (creating the missing ones). Errors name the file: NotFound for a missing file; InvalidArgument
// for malformed JSON, a wrong schema, an id out of range, a signature whose dtype or shape is not
// its value's, a variable of the same name but another dtype or shape in this process.
MetaGraph import_meta_graph(const std::string& path, const ImportOptions& options = {});
MetaGraph meta_graph_from_json(const std::string& text, const std::string& origin = "(text)",
                               const ImportOptions& options = {});

// Binds every read_variable / assign node of `g` to the live variable of its name (attrs.name),
// rewriting the process-local id the nodes carry. Missing variables are created from `defs`
// (when `create_missing`), else NotFound. A variable of the same name but another dtype or shape
// is an InvalidArgument naming both. Returns the bound variables, in the order of `defs` then of
// first use. Graph JSON from another process must be bound before it runs: its ids mean nothing
// here (the kernels refuse an id whose variable has another name).
std::vector<Variable> bind_variables(Graph& g, const std::vector<VariableDef>& defs = {}, bool create_missing = true);

// Assigns values to live variables by name (what restoring a checkpoint does): NotFound for a
// name no live variable has, InvalidArgument for a dtype or shape that is not the variable's.
// Every value is checked before any is assigned.
void assign_variables(const std::map<std::string, Tensor>& values);
// The current values of variables, by name (what a checkpoint would hold).
std::map<std::string, Tensor> variable_values(const std::vector<Variable>& vars);

}  // namespace xf::train
