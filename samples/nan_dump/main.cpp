// Finding where a NaN comes from: a small model whose loss is NaN for some inputs (the log of a
// negative number), run once through xf::debug::dump_run, which writes every intermediate value
// with its statistics (docs/debugging.md); the viewer shows them on the graph (docs/viewer.md).
//
//   ./build/samples/nan_dump/nan_dump [RUN_DIR]          (default runs/nan_dump)
//   ./build/tools/xflow view --dump RUN_DIR/dump         the graph, NaN and Inf highlighted
//   ./build/tools/xflow inspect RUN_DIR/dump             the same values as a table
//
// RUN_DIR also gets replay.json: the plan's graph with a profile (SummaryWriter::add_graph),
// whose fused groups the viewer outlines.
#include <filesystem>
#include <iostream>

#include "xflow/numerics_dump.hpp"
#include "xflow/summary.hpp"
#include "xflow/trace.hpp"
#include "xflow/xflow.hpp"

namespace {
std::vector<xf::Tensor> model(const std::vector<xf::Tensor>& in) {
  xf::Tensor h, l;
  {
    xf::NameScope scope("dense");
    xf::Tensor w = xf::reshape(xf::linspace(-1, 1, 6 * 4), {6, 4});
    h = xf::tanh(xf::matmul(in[0], w) * 0.5f) + 0.25f;  // elementwise after the matmul: one fused group
  }
  {
    xf::NameScope scope("loss");
    xf::Tensor w = xf::reshape(xf::linspace(-0.5, 1, 4 * 3), {4, 3});
    // The log of a value that is negative for some rows: NaN there.
    l = xf::log(xf::matmul(h, w) * 2.0f - 0.1f);
  }
  xf::NameScope scope("scale");
  xf::Tensor s = l * l;  // fused with the loss's elementwise ops: a group across two scopes
  return {xf::mean(s)};
}
}  // namespace

int main(int argc, char** argv) {
  std::string run_dir = argc > 1 ? argv[1] : "runs/nan_dump";
  std::filesystem::create_directories(run_dir);
  xf::manual_seed(3);
  xf::Tensor x = xf::random_normal({8, 6});
  xf::Graph g = xf::trace_graph(model, {x});
  xf::Plan plan(g);

  plan.set_profiling(true);
  xf::Tensor loss = plan.run({x})[0];
  plan.set_profiling(false);
  {
    xf::SummaryWriter writer(run_dir);
    writer.add_graph(g, plan, "replay");
  }
  std::cout << "loss = " << loss << "\n";

  std::string dump = run_dir + "/dump";
  xf::debug::dump_run(plan, {x}, dump);
  int bad = 0;
  for (const xf::debug::DumpEntry& e : xf::debug::read_dump_index(dump)) {
    if (!e.stats.bad()) continue;
    if (bad++ == 0)
      std::cout << "first value with NaN or Inf: " << e.name << " (" << e.op << ", " << e.source << "): " << e.stats.nan
                << " NaN of " << e.stats.count << "\n";
  }
  std::cout << bad << " values with NaN or Inf; dump written to " << dump << " (xflow view --dump " << dump << ")\n";
  return bad > 0 ? 0 : 1;
}
