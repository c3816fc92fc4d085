// trace_graph: the recorder (lib/graph/recorder.hpp) run over a function, with host reads as guards.
#include "graph/recorder.hpp"
#include "xflow/trace.hpp"

namespace xf {

Graph trace_graph(const std::function<std::vector<Tensor>(const std::vector<Tensor>&)>& fn,
                  const std::vector<Tensor>& example_inputs) {
  detail::Recorder rec(detail::Recorder::HostReads::guard);
  for (size_t i = 0; i < example_inputs.size(); ++i) {
    const Tensor& x = example_inputs[i];
    if (!x.defined()) throw InvalidArgument("[trace] example input " + std::to_string(i) + " is an empty Tensor handle");
    rec.bind_placeholder(x, "input" + std::to_string(i));
  }
  rec.start();
  std::vector<Tensor> outs = fn(example_inputs);  // on a throw, ~Recorder stops recording
  rec.stop();
  Graph& g = rec.graph();
  for (const Tensor& t : outs) {
    if (!t.defined()) throw InvalidArgument("[trace] the traced function returned an empty Tensor handle");
    g.outputs.push_back(rec.value_of(t));
  }
  return std::move(g);
}

}  // namespace xf
