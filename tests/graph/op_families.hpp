// Test helper: functions that together call every primitive, for tests that compare a replay
// with eager (tests/graph/test_graph.cpp, tests/exec/test_plan.cpp). Each takes two (3, 4)
// float32 tensors.
#pragma once
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "xflow/xflow.hpp"

namespace xf::testing {

using OpFamily = std::function<std::vector<Tensor>(const std::vector<Tensor>&)>;

inline std::vector<std::pair<std::string, OpFamily>> op_families() {
  return {
      {"unary", [](const std::vector<Tensor>& in) {
         const Tensor& x = in[0];
         return std::vector<Tensor>{neg(x), abs(x), sign(x), exp(x), expm1(x), log(abs(x) + 1.0f), log1p(abs(x)),
                                    sqrt(abs(x)), rsqrt(abs(x) + 1.0f), square(x), reciprocal(x + 10.0f), sin(x),
                                    cos(x), tan(x), tanh(x), sigmoid(x), relu(x), erf(x), floor(x), ceil(x),
                                    round(x), logical_not(x), isnan(x), isinf(x), isfinite(x)};
       }},
      {"binary", [](const std::vector<Tensor>& in) {
         const Tensor &a = in[0], b = in[1];
         return std::vector<Tensor>{a + b, a - b, a * b, a / b, floor_div(a, b), mod(a, b), pow(abs(a), b),
                                    maximum(a, b), minimum(a, b), atan2(a, b), a == b, a != b, a < b, a <= b,
                                    a > b, a >= b, logical_and(a, b), logical_or(a, b), logical_xor(a, b),
                                    where(a > b, a, b), cast(a, DType::int32), clip(a, -1.0f, 1.0f),
                                    hypot(a, b), logaddexp(a, b)};
       }},
      {"reductions", [](const std::vector<Tensor>& in) {
         const Tensor& x = in[0];
         return std::vector<Tensor>{sum(x), mean(x, Axes{0}), prod(x, Axes{1}, true), max(x, Axes{1}), min(x),
                                    argmax(x, 1), argmin(x), all(x > -10.0f), any(x > 2.0f), logsumexp(x, Axes{1}),
                                    variance(x), stddev(x, Axes{0})};
       }},
      {"shape", [](const std::vector<Tensor>& in) {
         const Tensor &a = in[0], b = in[1];
         auto parts = split(a, 2, 1);
         return std::vector<Tensor>{matmul(a, transpose(b)), transpose(a), reshape(a, {-1}), expand_dims(a, 0),
                                    squeeze(expand_dims(a, 1)), broadcast_to(sum(a, Axes{0}), {3, 4}),
                                    concat({a, b}, 0), stack({a, b}, 1), parts[0], parts[1],
                                    slice(a, {Slice{1, std::nullopt}, Slice{std::nullopt, std::nullopt, -2}}),
                                    gather(a, Tensor({2, 0}), 1), pad(a, {{1, 0}, {0, 2}}, 1.5), tile(a, {2, 1}),
                                    one_hot(Tensor({0, 2}), 3), tensordot(a, b, Axes{1}, Axes{1})};
       }},
      {"nn", [](const std::vector<Tensor>& in) {
         Tensor img = reshape(concat({in[0], in[1], in[0], in[1]}, 0), {1, 4, 4, 3});
         Tensor f = reshape(linspace(-1, 1, 2 * 2 * 3 * 2), {2, 2, 3, 2});
         return std::vector<Tensor>{softmax(in[0]), log_softmax(in[1], 0), conv2d(img, f, {1, 1}, Padding::same),
                                    conv2d(img, f, {2, 2}, Padding::valid),
                                    max_pool2d(img, {2, 2}, {2, 2}, Padding::same),
                                    avg_pool2d(img, {3, 3}, {1, 1}, Padding::same)};
       }},
  };
}

}  // namespace xf::testing
