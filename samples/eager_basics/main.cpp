// A first look at xflow: eager ops print their results at once.
#include <iostream>

#include "xflow/xflow.hpp"

int main() {
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
  return 0;
}
