// Test helper: functions that together call every primitive, for tests that compare a replay
// with eager (tests/graph/test_graph.cpp, tests/exec/test_plan.cpp). Each takes two (3, 4)
// float32 tensors. missing_primitives() checks "every" against the X-macro list
// (lib/ops/primitive.hpp): a new primitive must join a family here.
//
// The "random" family draws from the global generator: call manual_seed before each run that is
// compared. The "variables" family assigns a variable of its own, first to zeros, so every run
// reads the same values whatever ran before. The "queues" family dequeues what it enqueued, so
// every run leaves its queue empty.
#pragma once
#include <functional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "core/observer.hpp"
#include "ops/primitive.hpp"
#include "xflow/grad.hpp"
#include "xflow/queue.hpp"
#include "xflow/variable.hpp"
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
                                    hypot(a, b), logaddexp(a, b), relu_grad(a, b)};
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
                                    conv2d(img, f, {1, 1}, Padding::same, {2, 2}),
                                    max_pool2d(img, {2, 2}, {2, 2}, Padding::same),
                                    avg_pool2d(img, {3, 3}, {1, 1}, Padding::same)};
       }},
      {"gradient blocks", [](const std::vector<Tensor>& in) {
         // The primitives gradients are made of, called directly (as the vjps do).
         Tensor img = reshape(concat({in[0], in[1], in[0], in[1]}, 0), {1, 4, 4, 3});
         Tensor f = reshape(linspace(-1, 1, 2 * 2 * 3 * 2), {2, 2, 3, 2});
         Tensor dy = conv2d(img, f, {1, 1}, Padding::same) * 0.5f;
         Tensor pooled = reshape(in[1], {1, 2, 2, 3});  // the shape of img's 2x2 pools, stride 2
         return std::vector<Tensor>{stop_gradient(in[0] * 2.0f) + in[1],
                                    scatter_add(in[0], Tensor({2, 0, 2, -1}), 5, 1),
                                    conv2d_backprop_input(img.shape(), f, dy, {1, 1}, Padding::same),
                                    conv2d_backprop_filter(img, f.shape(), dy, {1, 1}, Padding::same),
                                    conv2d_backprop_input(img.shape(), f, dy, {1, 1}, Padding::same, {2, 1}),
                                    conv2d_backprop_filter(img, f.shape(), dy, {1, 1}, Padding::same, {1, 2}),
                                    image_patches(img, {2, 2}, {1, 2}, Padding::same, {2, 1}),
                                    image_patches_backprop(img.shape(), reshape(concat({dy, dy, dy, dy, dy, dy}, 3), {1, 4, 4, 12}),
                                                           {2, 2}, {1, 1}, Padding::same),
                                    max_pool2d_argmax(img, {2, 2}, {2, 2}),
                                    max_pool2d_backprop(img, pooled, {2, 2}, {2, 2}),
                                    avg_pool2d_backprop(img.shape(), pooled, {2, 2}, {2, 2}),
                                    check_numerics(in[0] * 3.0f, "op families") - in[1],
                                    adam_update(in[0], in[1], in[0] * in[0], in[1] * 0.5f, Tensor(0.01f), 0.9, 0.999, 1e-7).var};
       }},
      {"linalg", [](const std::vector<Tensor>& in) {
         SvdResult r = svd(in[0]), b = svd(reshape(in[1], {2, 2, 3})), f = svd(in[0], true);
         return std::vector<Tensor>{r.u, r.s, r.vh, b.u, b.s, b.vh, f.u, f.vh};
       }},
      {"sort and scan", [](const std::vector<Tensor>& in) {
         const Tensor &a = in[0], b = in[1];
         TopKResult t = topk(a, 2);
         Tensor order = argsort(b, 0);
         return std::vector<Tensor>{cumsum(a, 1), cumprod(b, 0, true, true), sort(a, 0, true), t.values, t.indices,
                                    searchsorted(sort(flatten(a)), b, "right"), take_along_axis(a, order, 0),
                                    scatter_add_along_axis(b, order, 3, 0)};
       }},
      {"random", [](const std::vector<Tensor>& in) {
         return std::vector<Tensor>{in[0] + random_uniform({3, 4}, -1, 1), in[1] * random_normal({3, 4}),
                                    truncated_normal({3, 4}, 0.5, 2.0) - in[0]};
       }},
      {"variables", [](const std::vector<Tensor>& in) {
         static const Variable v(zeros({3, 4}), "op_families_variable");
         v.assign(zeros({3, 4}));
         Tensor before = v.value();
         Tensor assigned = v.assign(in[0] * 2.0f);
         return std::vector<Tensor>{before + in[1], assigned, v.value() * in[1]};
       }},
      {"queues", [](const std::vector<Tensor>& in) {
         static const FIFOQueue q(16, {DType::float32}, {{3, 4}}, "op_families_queue");
         Queue h = q;
         h.enqueue({in[0] * 2.0f});
         h.enqueue_many({stack({in[1], in[0]})});
         Tensor one = h.dequeue()[0].tensor();
         Tensor two = h.dequeue_many(2)[0].tensor();
         return std::vector<Tensor>{one + in[1], two};
       }},
  };
}

// The names of the primitives of the X-macro list that no family calls ("" when none).
inline std::string missing_primitives() {
  struct Recorder : DispatchObserver {
    std::set<int> seen;
    Recorder() { add_observer(this); }
    ~Recorder() override { remove_observer(this); }
    void on_apply(const ApplyEvent& e) override { seen.insert(e.op); }
  };
  std::vector<Tensor> args{Tensor::from_vector(std::vector<float>(12, 0.5f), {3, 4}),
                           Tensor::from_vector(std::vector<float>(12, -1.5f), {3, 4})};
  Recorder rec;
  for (auto& family : op_families()) family.second(args);
  std::string missing;
  for (int i = 0; i < kNumPrims; ++i)
    if (!rec.seen.count(i)) missing += std::string(missing.empty() ? "" : " ") + op_def(static_cast<Prim>(i)).name;
  return missing;
}

}  // namespace xf::testing
