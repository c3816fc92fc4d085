// image_patches (conv2d's patch matrix as an op) and its adjoint: values against a direct loop,
// adjointness, errors, JSON and replay; conv2d under a gradient tape, which runs as
// image_patches and a 1x1 conv2d, against the conv2d primitive and its backprops bit for bit.
// Numerical gradients: tests/autodiff.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>
#include <set>
#include <vector>

#include "core/observer.hpp"
#include "ops/prims.hpp"
#include "testing.hpp"
#include "xflow/graph.hpp"
#include "xflow/xflow.hpp"

using namespace xf;
using nlohmann::json;

namespace {

Tensor vals(const Shape& s, int salt = 0) { return testing::grid_values(s, salt); }

// TensorFlow's output size and leading pad for a window spanning (k - 1) * d + 1 inputs.
std::pair<int64_t, int64_t> dim(int64_t in, int64_t k, int64_t s, int64_t d, bool same) {
  int64_t span = (k - 1) * d + 1;
  if (same) {
    int64_t out = (in + s - 1) / s;
    return {out, std::max<int64_t>((out - 1) * s + span - in, 0) / 2};
  }
  return {in >= span ? (in - span) / s + 1 : 0, 0};
}

// p[n, i, j, (kh * KW + kw) * C + c] = x[n, i*sh + kh*dh - pad_h, j*sw + kw*dw - pad_w, c], 0 outside.
std::vector<double> reference_patches(const Tensor& x, std::pair<int64_t, int64_t> k, std::pair<int64_t, int64_t> s,
                                      bool same, std::pair<int64_t, int64_t> d) {
  const Shape& xs = x.shape();
  int64_t N = xs[0], H = xs[1], W = xs[2], C = xs[3], KH = k.first, KW = k.second;
  auto h = dim(H, KH, s.first, d.first, same), w = dim(W, KW, s.second, d.second, same);
  std::vector<double> xv = x.to_vector<double>(), p;
  for (int64_t n = 0; n < N; ++n)
    for (int64_t i = 0; i < h.first; ++i)
      for (int64_t j = 0; j < w.first; ++j)
        for (int64_t kh = 0; kh < KH; ++kh)
          for (int64_t kw = 0; kw < KW; ++kw)
            for (int64_t c = 0; c < C; ++c) {
              int64_t ih = i * s.first + kh * d.first - h.second, iw = j * s.second + kw * d.second - w.second;
              bool in = ih >= 0 && ih < H && iw >= 0 && iw < W;
              p.push_back(in ? xv[static_cast<size_t>(((n * H + ih) * W + iw) * C + c)] : 0.0);
            }
  return p;
}

struct Case {
  Shape input;
  std::pair<int64_t, int64_t> window, strides, dilations;
};
// Few channels (im2col's tap-by-tap path) and more (its row copies), strides, dilations, windows
// wider than the input.
const Case kCases[] = {
    {{2, 5, 6, 1}, {3, 3}, {1, 1}, {1, 1}}, {{1, 7, 6, 2}, {3, 2}, {2, 1}, {1, 2}},
    {{2, 6, 7, 6}, {2, 3}, {1, 2}, {2, 1}}, {{1, 4, 5, 3}, {3, 3}, {2, 2}, {2, 2}},
    {{1, 3, 3, 5}, {4, 4}, {1, 1}, {1, 1}},
};

struct PrimNames : DispatchObserver {
  std::multiset<std::string> seen;
  PrimNames() { add_observer(this); }
  ~PrimNames() override { remove_observer(this); }
  void on_apply(const ApplyEvent& e) override { seen.insert(op_def(static_cast<Prim>(e.op)).name); }
};

}  // namespace

TEST_CASE("image_patches: values against a direct loop, float32 and float64", "[conv][patches]") {
  for (const Case& c : kCases)
    for (bool same : {false, true})
      for (DType dt : {DType::float32, DType::float64}) {
        INFO("input " << shape_str(c.input) << " window " << c.window.first << "x" << c.window.second
                      << (same ? " SAME " : " VALID ") << dtype_name(dt));
        Tensor x = cast(vals(c.input), dt);
        Padding p = same ? Padding::same : Padding::valid;
        Tensor pt = image_patches(x, c.window, c.strides, p, c.dilations);
        auto h = dim(c.input[1], c.window.first, c.strides.first, c.dilations.first, same);
        auto w = dim(c.input[2], c.window.second, c.strides.second, c.dilations.second, same);
        CHECK(pt.dtype() == dt);
        CHECK(pt.shape() == Shape{c.input[0], h.first, w.first, c.window.first * c.window.second * c.input[3]});
        CHECK(pt.to_vector<double>() == reference_patches(x, c.window, c.strides, same, c.dilations));
      }
}

TEST_CASE("image_patches_backprop is image_patches' adjoint", "[conv][patches]") {
  for (const Case& c : kCases)
    for (bool same : {false, true}) {
      INFO("input " << shape_str(c.input) << (same ? " SAME" : " VALID"));
      Padding p = same ? Padding::same : Padding::valid;
      Tensor x = vals(c.input, 3);
      Tensor pt = image_patches(x, c.window, c.strides, p, c.dilations);
      Tensor g = vals(pt.shape(), 11);
      Tensor gx = image_patches_backprop(x.shape(), g, c.window, c.strides, p, c.dilations);
      CHECK(gx.shape() == x.shape());
      CHECK(sum(x * gx).item<double>() == Approx(sum(pt * g).item<double>()).margin(1e-9));
    }
}

TEST_CASE("conv2d is the 1x1 conv2d of its patches, bit for bit", "[conv][patches]") {
  Tensor x = cast(vals({4, 6, 5, 3}), DType::float32), f = cast(vals({3, 2, 3, 4}, 5), DType::float32);
  for (bool same : {false, true}) {
    Padding p = same ? Padding::same : Padding::valid;
    Tensor pt = image_patches(x, {3, 2}, {2, 1}, p, {1, 2});
    CHECK(bitwise_equal(conv2d(pt, reshape(f, {1, 1, 18, 4})), conv2d(x, f, {2, 1}, p, {1, 2})));
  }
}

TEST_CASE("conv2d under a gradient tape keeps its patches: same bits as the conv2d primitive", "[conv][patches]") {
  Tensor x = cast(vals({8, 6, 6, 4}), DType::float32) * 0.3f, f = cast(vals({3, 3, 4, 5}, 7), DType::float32) * 0.2f;
  Tensor y0 = conv2d(x, f, {1, 1}, Padding::same);
  Tensor g = cast(vals(y0.shape(), 2), DType::float32);
  for (bool watch_x : {false, true}) {
    INFO((watch_x ? "input and filter watched" : "filter watched"));
    GradientTape tape;
    tape.watch(f);
    if (watch_x) tape.watch(x);
    PrimNames names;
    Tensor y = conv2d(x, f, {1, 1}, Padding::same);
    CHECK(names.seen.count("image_patches") == 1);
    CHECK(bitwise_equal(y, y0));
    std::vector<Tensor> grads = tape.gradient(sum(y * g), {x, f});
    CHECK(bitwise_equal(grads[1], conv2d_backprop_filter(x, f.shape(), g, {1, 1}, Padding::same)));
    if (watch_x) CHECK(bitwise_equal(grads[0], conv2d_backprop_input(x.shape(), f, g, {1, 1}, Padding::same)));
  }
  {
    // Only the filter's gradient reads the patches: a tape watching the input alone, a 1x1
    // filter with stride 1 (its patches are the input) and no tape run the conv2d primitive.
    GradientTape tape;
    tape.watch(x);
    PrimNames names;
    conv2d(x, f, {1, 1}, Padding::same);
    Tensor f1 = cast(vals({1, 1, 4, 2}), DType::float32);
    tape.watch(f1);
    conv2d(x, f1);
    CHECK(names.seen.count("image_patches") == 0);
    CHECK(names.seen.count("conv2d") == 2);
  }
  PrimNames names;
  conv2d(x, f, {1, 1}, Padding::same);
  CHECK(names.seen.count("image_patches") == 0);
}

TEST_CASE("conv2d's own gradient runs when the patches are not kept: input only, or a batch over the budget",
          "[conv][patches]") {
  {
    Tensor x = cast(vals({2, 6, 5, 3}), DType::float32), f = cast(vals({3, 3, 3, 2}, 4), DType::float32);
    Tensor g = cast(vals({2, 6, 5, 2}, 6), DType::float32);
    GradientTape tape;
    tape.watch(x);
    PrimNames names;
    Tensor y = conv2d(x, f, {1, 1}, Padding::same);
    CHECK(names.seen.count("image_patches") == 0);
    CHECK(bitwise_equal(tape.gradient(sum(y * g), {x})[0], conv2d_backprop_input(x.shape(), f, g, {1, 1}, Padding::same)));
  }
  // 3 images of 128 * 128 patches of 144 elements: 7M, over the 4M-element budget.
  Tensor x = cast(vals({3, 128, 128, 16}), DType::float32) * 0.1f, f = cast(vals({3, 3, 16, 2}, 7), DType::float32);
  GradientTape tape;
  tape.watch(f);
  PrimNames names;
  Tensor y = conv2d(x, f, {1, 1}, Padding::same);
  CHECK(names.seen.count("image_patches") == 0);
  Tensor g = cast(vals(y.shape(), 2), DType::float32);
  CHECK(bitwise_equal(tape.gradient(sum(y * g), {f})[0], conv2d_backprop_filter(x, f.shape(), g, {1, 1}, Padding::same)));
}

TEST_CASE("a traced conv training step with kept patches replays bitwise and round-trips through JSON",
          "[conv][patches][json]") {
  auto step = [](const std::vector<Tensor>& in) {
    GradientTape tape;
    tape.watch(in[1]);
    tape.watch(in[2]);
    Tensor h = relu(conv2d(in[0], in[1], {1, 1}, Padding::same));
    Tensor y = conv2d(max_pool2d(h, {2, 2}, {2, 2}), in[2], {1, 1}, Padding::valid, {1, 1});
    Tensor loss = sum(y * y);
    std::vector<Tensor> g = tape.gradient(loss, {in[1], in[2]});
    return std::vector<Tensor>{loss, g[0], g[1]};
  };
  std::vector<Tensor> in{cast(vals({4, 6, 6, 2}), DType::float32) * 0.5f, cast(vals({3, 3, 2, 3}, 4), DType::float32),
                         cast(vals({2, 2, 3, 2}, 9), DType::float32)};
  std::vector<Tensor> eager = step(in);
  Graph gr = trace_graph(step, in);
  Graph back = Graph::from_json(gr.to_json());
  CHECK(back.to_json() == gr.to_json());
  json j = json::parse(gr.to_json());
  int patches = 0, patch_grads = 0;
  for (const json& n : j["nodes"]) {
    patches += n["op"] == "image_patches";
    patch_grads += n["op"] == "image_patches_backprop";
  }
  CHECK(patches == 2);
  CHECK(patch_grads == 1);  // the second layer's input gradient; the first layer's input is data
  for (const PlanOptions& o : testing::all_plan_options()) {
    INFO(testing::options_str(o));
    Plan plan(back, o);
    std::vector<Tensor> r = plan.run(in);
    for (size_t i = 0; i < eager.size(); ++i) CHECK(bitwise_equal(r[i], eager[i]));
  }
  auto traced = trace(step);
  for (int k = 0; k < 2; ++k) {
    std::vector<Tensor> r = traced(in);
    for (size_t i = 0; i < eager.size(); ++i) CHECK(bitwise_equal(r[i], eager[i]));
  }
}

TEST_CASE("image_patches and image_patches_backprop reject bad inputs with clear errors", "[conv][patches][errors]") {
  Tensor x = vals({1, 5, 5, 2});
  CHECK_THROWS_WITH(image_patches(vals({5, 5, 2}), {2, 2}),
                    Catch::Contains("[image_patches]") && Catch::Contains("input must be NHWC"));
  CHECK_THROWS_AS(image_patches(cast(x, DType::int32), {2, 2}), DTypeError);
  CHECK_THROWS_WITH(image_patches(x, {0, 2}), Catch::Contains("window must be two positive numbers"));
  CHECK_THROWS_AS(image_patches(x, {2, 2}, {1, 0}), InvalidArgument);
  CHECK_THROWS_AS(image_patches(x, {2, 2}, {1, 1}, Padding::valid, {-1, 1}), InvalidArgument);
  CHECK_THROWS_AS(image_patches(Tensor(), {2, 2}), InvalidArgument);
  Tensor g = image_patches(x, {2, 2});  // (1, 4, 4, 8)
  CHECK(image_patches_backprop(x.shape(), g, {2, 2}).shape() == x.shape());
  CHECK_THROWS_WITH(image_patches_backprop(x.shape(), g, {3, 3}),
                    Catch::Contains("[image_patches_backprop]") &&
                        Catch::Contains("patch_grad is not the shape image_patches gives for input shape (1, 5, 5, 2)"));
  CHECK_THROWS_AS(image_patches_backprop({1, 5, 5}, g, {2, 2}), InvalidArgument);
  CHECK_THROWS_AS(image_patches_backprop({1, 5, 5, -2}, g, {2, 2}), InvalidArgument);
  CHECK_THROWS_AS(image_patches_backprop(x.shape(), cast(g, DType::int64), {2, 2}), DTypeError);
  CHECK_THROWS_AS(image_patches_backprop(x.shape(), g, {2, 2}, {1, 1}, Padding::valid, {0, 1}), InvalidArgument);
  CHECK_THROWS_AS(image_patches_backprop(x.shape(), Tensor(), {2, 2}), InvalidArgument);
}
