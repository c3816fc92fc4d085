// conv2d with dilations (TensorFlow's NHWC semantics) against a direct loop and against an
// ordinary convolution with a zero-stuffed filter; its backprops as adjoints; its JSON form,
// including graphs written before dilations existed. Numerical gradients: tests/autodiff.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>
#include <vector>

#include "testing.hpp"
#include "xflow/graph.hpp"
#include "xflow/xflow.hpp"

using namespace xf;
using nlohmann::json;

namespace {

Tensor vals(const Shape& s, int salt = 0) { return testing::grid_values(s, salt); }

struct Dim {
  int64_t out, pad;
};

// TensorFlow's output size and leading pad for a window spanning (k - 1) * d + 1 inputs.
Dim dim(int64_t in, int64_t k, int64_t s, int64_t d, bool same) {
  int64_t span = (k - 1) * d + 1;
  if (same) {
    int64_t out = (in + s - 1) / s;
    return {out, std::max<int64_t>((out - 1) * s + span - in, 0) / 2};
  }
  return {in >= span ? (in - span) / s + 1 : 0, 0};
}

// out[n, i, j, o] = sum over kh, kw, c of x[n, i*sh + kh*dh - pad_h, j*sw + kw*dw - pad_w, c] * f[kh, kw, c, o].
Tensor reference_conv(const Tensor& x, const Tensor& f, std::pair<int64_t, int64_t> s, bool same,
                      std::pair<int64_t, int64_t> d) {
  const Shape& xs = x.shape();
  const Shape& fs = f.shape();
  int64_t N = xs[0], H = xs[1], W = xs[2], C = xs[3], KH = fs[0], KW = fs[1], O = fs[3];
  Dim h = dim(H, KH, s.first, d.first, same), w = dim(W, KW, s.second, d.second, same);
  std::vector<double> xv = x.to_vector<double>(), fv = f.to_vector<double>();
  std::vector<double> y(static_cast<size_t>(N * h.out * w.out * O), 0.0);
  for (int64_t n = 0; n < N; ++n)
    for (int64_t i = 0; i < h.out; ++i)
      for (int64_t j = 0; j < w.out; ++j)
        for (int64_t o = 0; o < O; ++o) {
          double acc = 0;
          for (int64_t kh = 0; kh < KH; ++kh)
            for (int64_t kw = 0; kw < KW; ++kw) {
              int64_t ih = i * s.first + kh * d.first - h.pad, iw = j * s.second + kw * d.second - w.pad;
              if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
              for (int64_t c = 0; c < C; ++c)
                acc += xv[static_cast<size_t>(((n * H + ih) * W + iw) * C + c)] *
                       fv[static_cast<size_t>(((kh * KW + kw) * C + c) * O + o)];
            }
          y[static_cast<size_t>(((n * h.out + i) * w.out + j) * O + o)] = acc;
        }
  return Tensor::from_vector(y, {N, h.out, w.out, O});
}

// The filter with (d - 1) zeros between its taps: an ordinary convolution with it is the dilated one.
Tensor stuffed(const Tensor& f, std::pair<int64_t, int64_t> d) {
  const Shape& fs = f.shape();
  int64_t KH = (fs[0] - 1) * d.first + 1, KW = (fs[1] - 1) * d.second + 1;
  std::vector<double> fv = f.to_vector<double>(), out(static_cast<size_t>(KH * KW * fs[2] * fs[3]), 0.0);
  int64_t CO = fs[2] * fs[3];
  for (int64_t kh = 0; kh < fs[0]; ++kh)
    for (int64_t kw = 0; kw < fs[1]; ++kw)
      for (int64_t k = 0; k < CO; ++k)
        out[static_cast<size_t>((kh * d.first * KW + kw * d.second) * CO + k)] = fv[static_cast<size_t>((kh * fs[1] + kw) * CO + k)];
  return Tensor::from_vector(out, {KH, KW, fs[2], fs[3]});
}

struct Case {
  Shape input, filter;
  std::pair<int64_t, int64_t> strides, dilations;
};
const Case kCases[] = {
    {{1, 7, 7, 1}, {3, 3, 1, 1}, {1, 1}, {2, 2}},
    {{2, 9, 8, 3}, {3, 2, 3, 4}, {1, 1}, {2, 3}},
    {{1, 10, 9, 2}, {2, 3, 2, 2}, {2, 3}, {3, 2}},
    {{1, 5, 5, 2}, {2, 2, 2, 1}, {1, 2}, {4, 4}},   // VALID: span 5 fits once; SAME pads
    {{1, 4, 4, 1}, {3, 3, 1, 2}, {1, 1}, {3, 3}},   // VALID: span 7 > 4 gives an empty output
    {{1, 6, 6, 1}, {1, 1, 1, 1}, {1, 1}, {5, 5}},   // a 1x1 filter ignores dilation
    // More than 4 channels: im2col copies whole runs of taps (dilation 1 across) or one tap at a time.
    {{3, 6, 5, 6}, {3, 3, 6, 4}, {1, 1}, {1, 1}},
    {{2, 7, 6, 5}, {3, 2, 5, 3}, {2, 1}, {2, 1}},
    {{2, 7, 8, 5}, {2, 3, 5, 2}, {1, 2}, {1, 2}},
};

}  // namespace

TEST_CASE("conv2d with dilations equals a direct loop, SAME and VALID, with strides", "[conv][dilations]") {
  for (const Case& c : kCases)
    for (bool same : {false, true}) {
      INFO("input " << shape_str(c.input) << " filter " << shape_str(c.filter) << " strides " << c.strides.first << ","
                    << c.strides.second << " dilations " << c.dilations.first << "," << c.dilations.second
                    << (same ? " SAME" : " VALID"));
      Tensor x = vals(c.input), f = vals(c.filter, 5);
      Padding p = same ? Padding::same : Padding::valid;
      Tensor y = conv2d(x, f, c.strides, p, c.dilations);
      Tensor want = reference_conv(x, f, c.strides, same, c.dilations);
      REQUIRE(y.shape() == want.shape());
      CHECK(allclose(y, want, 1e-12, 1e-12));
      // The same as an ordinary convolution with the zero-stuffed filter.
      CHECK(allclose(y, conv2d(x, stuffed(f, c.dilations), c.strides, p), 1e-12, 1e-12));
      // float32 agrees with float64.
      Tensor y32 = conv2d(cast(x, DType::float32), cast(f, DType::float32), c.strides, p, c.dilations);
      CHECK(allclose(cast(y32, DType::float64), want, 1e-5, 1e-4));
    }
}

TEST_CASE("conv2d's default dilations {1, 1} are the undilated convolution", "[conv][dilations]") {
  Tensor x = vals({1, 5, 6, 2}), f = vals({2, 3, 2, 3}, 3);
  CHECK(bitwise_equal(conv2d(x, f, {1, 2}, Padding::same), conv2d(x, f, {1, 2}, Padding::same, {1, 1})));
  CHECK(allclose(conv2d(x, f, {1, 2}, Padding::same), reference_conv(x, f, {1, 2}, true, {1, 1}), 1e-12, 1e-12));
}

TEST_CASE("dilated conv2d backprops are the adjoints of conv2d", "[conv][dilations]") {
  // <conv2d(x, f), g> = <x, backprop_input(f, g)> = <f, backprop_filter(x, g)>.
  for (const Case& c : kCases)
    for (bool same : {false, true}) {
      INFO("input " << shape_str(c.input) << " filter " << shape_str(c.filter) << (same ? " SAME" : " VALID"));
      Padding p = same ? Padding::same : Padding::valid;
      Tensor x = vals(c.input), f = vals(c.filter, 5);
      Tensor y = conv2d(x, f, c.strides, p, c.dilations);
      Tensor g = vals(y.shape(), 11);
      double lhs = sum(y * g).item<double>();
      Tensor gx = conv2d_backprop_input(x.shape(), f, g, c.strides, p, c.dilations);
      Tensor gf = conv2d_backprop_filter(x, f.shape(), g, c.strides, p, c.dilations);
      CHECK(sum(x * gx).item<double>() == Approx(lhs).margin(1e-9));
      CHECK(sum(f * gf).item<double>() == Approx(lhs).margin(1e-9));
      // And equal to the stuffed filter's backprops (the filter's, read at the taps).
      Tensor sf = stuffed(f, c.dilations);
      CHECK(allclose(gx, conv2d_backprop_input(x.shape(), sf, g, c.strides, p), 1e-12, 1e-12));
    }
}

TEST_CASE("conv2d and its backprops over a batch larger than one im2col block equal image by image", "[conv]") {
  // Each image's patches are 128 * 128 * 144 elements, so the kernels take one image per block.
  Tensor x = cast(vals({3, 128, 128, 16}), DType::float32), f = cast(vals({3, 3, 16, 4}, 7), DType::float32);
  Tensor y = conv2d(x, f, {1, 1}, Padding::same);
  Tensor g = cast(vals(y.shape(), 3), DType::float32);
  Tensor gx = conv2d_backprop_input(x.shape(), f, g, {1, 1}, Padding::same);
  Tensor gf = conv2d_backprop_filter(x, f.shape(), g, {1, 1}, Padding::same);
  Tensor gf_sum = zeros(f.shape());
  for (int64_t n = 0; n < 3; ++n) {
    INFO("image " << n);
    Tensor xn = slice(x, {Slice(n, n + 1)}), gn = slice(g, {Slice(n, n + 1)});
    CHECK(bitwise_equal(slice(y, {Slice(n, n + 1)}), conv2d(xn, f, {1, 1}, Padding::same)));
    CHECK(bitwise_equal(slice(gx, {Slice(n, n + 1)}), conv2d_backprop_input(xn.shape(), f, gn, {1, 1}, Padding::same)));
    gf_sum = gf_sum + conv2d_backprop_filter(xn, f.shape(), gn, {1, 1}, Padding::same);
  }
  CHECK(allclose(gf, gf_sum, 1e-4, 1e-3));
}

TEST_CASE("conv2d and its backprops give the same bits with one thread and two", "[conv]") {
  // im2col splits rows and col2im images over threads; every element is computed in one order.
  Tensor x = cast(vals({16, 12, 10, 3}), DType::float32) * 0.37f, f = cast(vals({3, 3, 3, 5}, 7), DType::float32);
  auto run = [&](int threads) {
    set_num_threads(threads);
    Tensor y = conv2d(x, f, {1, 1}, Padding::same);
    Tensor g = y * 0.5f - 0.25f;
    std::vector<Tensor> out{y, conv2d_backprop_input(x.shape(), f, g, {1, 1}, Padding::same),
                            conv2d_backprop_filter(x, f.shape(), g, {1, 1}, Padding::same)};
    set_num_threads(0);
    return out;
  };
  std::vector<Tensor> one = run(1), two = run(2);
  for (size_t i = 0; i < one.size(); ++i) CHECK(bitwise_equal(one[i], two[i]));
}

TEST_CASE("conv2d rejects dilations that are not two positive numbers", "[conv][dilations][errors]") {
  Tensor x = vals({1, 5, 5, 1}), f = vals({2, 2, 1, 1});
  CHECK_THROWS_AS(conv2d(x, f, {1, 1}, Padding::valid, {0, 1}), InvalidArgument);
  CHECK_THROWS_WITH(conv2d(x, f, {1, 1}, Padding::valid, {1, -2}),
                    Catch::Contains("[conv2d]") && Catch::Contains("dilations must be two positive numbers"));
  Tensor g = zeros({1, 4, 4, 1}, DType::float64);
  CHECK_THROWS_AS(conv2d_backprop_input({1, 5, 5, 1}, f, g, {1, 1}, Padding::valid, {0, 0}), InvalidArgument);
  CHECK_THROWS_AS(conv2d_backprop_filter(x, {2, 2, 1, 1}, g, {1, 1}, Padding::valid, {1, 0}), InvalidArgument);
  // out_grad must have the shape of the dilated convolution's output (3x3 here, not 4x4).
  CHECK_THROWS_AS(conv2d_backprop_input({1, 5, 5, 1}, f, g, {1, 1}, Padding::valid, {2, 2}), ShapeError);
}

TEST_CASE("dilated conv2d replays bitwise and round-trips through JSON", "[conv][dilations][json]") {
  auto fn = [](const std::vector<Tensor>& in) {
    Tensor y = conv2d(in[0], in[1], {1, 2}, Padding::same, {2, 2});
    Tensor gx = conv2d_backprop_input(in[0].shape(), in[1], y, {1, 2}, Padding::same, {2, 2});
    Tensor gf = conv2d_backprop_filter(in[0], in[1].shape(), y, {1, 2}, Padding::same, {2, 2});
    return std::vector<Tensor>{y, gx, gf};
  };
  std::vector<Tensor> in{cast(vals({2, 7, 8, 2}), DType::float32), cast(vals({3, 2, 2, 3}, 4), DType::float32)};
  std::vector<Tensor> eager = fn(in);
  Graph g = trace_graph(fn, in);
  Graph back = Graph::from_json(g.to_json());
  CHECK(back.to_json() == g.to_json());
  json j = json::parse(g.to_json());
  int convs = 0;
  for (const json& n : j["nodes"])
    if (n["op"].get<std::string>().rfind("conv2d", 0) == 0) {
      CHECK(n["attrs"]["dilations"] == json::array({2, 2}));
      ++convs;
    }
  CHECK(convs == 3);
  for (const PlanOptions& o : testing::all_plan_options()) {
    INFO(testing::options_str(o));
    Plan plan(back, o);
    std::vector<Tensor> r = plan.run(in);
    for (size_t i = 0; i < eager.size(); ++i) CHECK(bitwise_equal(r[i], eager[i]));
  }
}

TEST_CASE("graph JSON before 1.2 has no conv2d dilations and loads as {1, 1}", "[conv][dilations][json]") {
  auto fn = [](const std::vector<Tensor>& in) {
    Tensor y = conv2d(in[0], in[1], {1, 1}, Padding::same);
    return std::vector<Tensor>{y, conv2d_backprop_filter(in[0], in[1].shape(), y, {1, 1}, Padding::same)};
  };
  std::vector<Tensor> in{cast(vals({1, 5, 5, 2}), DType::float32), cast(vals({3, 3, 2, 2}, 4), DType::float32)};
  json j = json::parse(trace_graph(fn, in).to_json());
  CHECK(j["schema_version"] == json::array({1, 3}));
  json old = j;
  old["schema_version"] = {1, 1};
  for (json& n : old["nodes"]) n["attrs"].erase("dilations");
  Graph g11 = Graph::from_json(old.dump());
  Plan plan(g11);
  std::vector<Tensor> r = plan.run(in), eager = fn(in);
  CHECK(bitwise_equal(r[0], eager[0]));
  CHECK(bitwise_equal(r[1], eager[1]));
  CHECK(json::parse(g11.to_json())["nodes"][0]["attrs"]["dilations"] == json::array({1, 1}));
  // A 1.2 document must have them.
  json missing = old;
  missing["schema_version"] = {1, 2};
  CHECK_THROWS_WITH(Graph::from_json(missing.dump()), Catch::Contains("dilations: missing"));
}
