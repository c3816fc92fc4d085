// A first look at xflow: eager ops print their results at once; trace() records a function and
// replays it; the recorded graph is written as JSON for the viewer.
//
//   ./build/samples/eager_basics/eager_basics [RUN_DIR]     (default runs/eager_basics)
#include <chrono>
#include <filesystem>
#include <iostream>

#include "xflow/trace.hpp"
#include "xflow/xflow.hpp"

namespace {
// A small dense layer with a name scope, as a user would write it.
std::vector<xf::Tensor> dense_relu(const std::vector<xf::Tensor>& in) {
  xf::NameScope scope("dense");
  xf::Tensor w = xf::reshape(xf::linspace(-1, 1, 8 * 4), {8, 4});
  xf::Tensor b = xf::full({4}, 0.1f);
  return {xf::relu(xf::matmul(in[0], w) + b)};
}
}  // namespace

int main(int argc, char** argv) {
  std::string run_dir = argc > 1 ? argv[1] : "runs/eager_basics";
  xf::Tensor a({{1, 2}, {3, 4}});
  std::cout << "a = " << a << "\n";
  std::cout << "a * 2 + 1 = " << a * 2 + 1 << "\n";
  std::cout << "a / 2 = " << a / 2 << "  (int32 / int32 gives float32)\n";
  xf::Tensor x = xf::linspace(-2, 2, 5);
  std::cout << "x = " << x << "\n";
  std::cout << "sigmoid(x) = " << xf::sigmoid(x) << "\n";
  std::cout << "softmax(x) = " << xf::softmax(x) << "\n";
  std::cout << "a @ a^T = " << xf::matmul(a, xf::transpose(a)) << "\n";
  std::cout << "sum over axis 0 = " << xf::sum(a, xf::Axes{0}) << "\n";
  xf::manual_seed(42);
  std::cout << "random_normal((2, 3)) = " << xf::random_normal({2, 3}) << "\n";
  try {
    xf::matmul(xf::ones({2, 3}), xf::ones({4, 5}));
  } catch (const xf::ShapeError& e) {
    std::cout << "error: " << e.what() << "\n";
  }

  // Trace once, replay many times.
  auto layer = xf::trace(dense_relu);
  xf::Tensor batch = xf::random_normal({16, 8});
  xf::Tensor eager = dense_relu({batch})[0];
  xf::Tensor traced = layer({batch})[0];   // traces
  xf::Tensor replayed = layer({batch})[0]; // replays
  std::cout << "replay equals eager bitwise: " << (xf::bitwise_equal(eager, replayed) ? "yes" : "no") << "\n";
  std::cout << "traces " << layer.stats().traces << ", replays " << layer.stats().replays << "\n";

  std::filesystem::create_directories(run_dir);
  std::string path = run_dir + "/graph.json";
  layer.graph_for({batch})->save(path);
  std::cout << "graph with " << layer.graph_for({batch})->nodes.size() << " nodes written to " << path << "\n";
  return xf::bitwise_equal(eager, replayed) && xf::bitwise_equal(eager, traced) ? 0 : 1;
}
