// W6 of BENCHMARKS.md: one training step of the digits CNN (samples/digits): batch 64 of 8x8x1
// images (NHWC), conv 3x3x16 SAME + bias + ReLU, max-pool 2x2/2, conv 3x3x32 SAME + bias + ReLU,
// max-pool 2x2/2, flatten 128, dense 10, softmax cross-entropy (mean) with int labels, Adam lr
// 0.005 (TensorFlow 1's formulas). One thread.
//
// Rows: W6/hand (a hand-written step: im2col over the whole batch + cblas_sgemm, one pass per
// max-pool forward and backward, loops for the rest), W6/eager (the step written with xflow's ops
// and xf::Adam, run eagerly) and W6/replay (the same function traced and replayed). Before timing,
// the three run three steps from the same weights: eager and replay must give bitwise equal losses
// and weights, and the hand step's losses must be close to eager's.
#include <cblas.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "bench_common.hpp"
#include "xflow/grad.hpp"
#include "xflow/nn.hpp"
#include "xflow/ops.hpp"
#include "xflow/optim.hpp"
#include "xflow/threads.hpp"
#include "xflow/trace.hpp"
#include "xflow/variable.hpp"

namespace xfbench {
namespace {

constexpr int kN = 64, kH = 8, kC1 = 16, kC2 = 32, kClasses = 10;
constexpr int kFlat = 2 * 2 * kC2;  // 128
constexpr float kLr = 0.005f, kBeta1 = 0.9f, kBeta2 = 0.999f, kEps = 1e-8f;

// Deterministic starting weights (kernels (kh, kw, in, out), dense (128, 10)), shared by all rows.
struct CnnParams {
  std::vector<float> k1, b1, k2, b2, w3, b3;
};

CnnParams w6_params() {
  CnnParams p;
  p.k1.resize(3 * 3 * 1 * kC1);
  p.k2.resize(3 * 3 * kC1 * kC2);
  p.w3.resize(kFlat * kClasses);
  p.b1.resize(kC1);
  p.b2.resize(kC2);
  p.b3.assign(kClasses, 0.0f);
  for (size_t i = 0; i < p.k1.size(); ++i) p.k1[i] = static_cast<float>(((i * 13) % 200) * 0.004 - 0.4);
  for (size_t i = 0; i < p.k2.size(); ++i) p.k2[i] = static_cast<float>(((i * 17) % 200) * 0.001 - 0.1);
  for (size_t i = 0; i < p.w3.size(); ++i) p.w3[i] = static_cast<float>(((i * 29) % 200) * 0.002 - 0.2);
  for (size_t i = 0; i < p.b1.size(); ++i) p.b1[i] = static_cast<float>((i % 3) * 0.01);
  for (size_t i = 0; i < p.b2.size(); ++i) p.b2[i] = static_cast<float>((i % 5) * 0.01);
  return p;
}

float w6_pixel(int64_t i) { return static_cast<float>(static_cast<double>((i * 37) % 1000) * 0.001); }

// The 3x3 SAME (stride 1) patches of x (n, h, w, c) as rows of cols (n*h*w, 9c).
void im2col3x3(const float* x, int n, int h, int w, int c, float* cols) {
  for (int b = 0; b < n; ++b)
    for (int oh = 0; oh < h; ++oh)
      for (int ow = 0; ow < w; ++ow) {
        float* r = cols + ((static_cast<int64_t>(b) * h + oh) * w + ow) * 9 * c;
        for (int kh = 0; kh < 3; ++kh)
          for (int kw = 0; kw < 3; ++kw, r += c) {
            int ih = oh + kh - 1, iw = ow + kw - 1;
            if (ih < 0 || ih >= h || iw < 0 || iw >= w) std::fill(r, r + c, 0.0f);
            else std::copy_n(x + ((static_cast<int64_t>(b) * h + ih) * w + iw) * c, c, r);
          }
      }
}

// The adjoint of im2col3x3: dx (n, h, w, c) = sum of the patch rows' entries at their pixels.
void col2im3x3(const float* cols, int n, int h, int w, int c, float* dx) {
  std::fill(dx, dx + static_cast<int64_t>(n) * h * w * c, 0.0f);
  for (int b = 0; b < n; ++b)
    for (int oh = 0; oh < h; ++oh)
      for (int ow = 0; ow < w; ++ow) {
        const float* r = cols + ((static_cast<int64_t>(b) * h + oh) * w + ow) * 9 * c;
        for (int kh = 0; kh < 3; ++kh)
          for (int kw = 0; kw < 3; ++kw, r += c) {
            int ih = oh + kh - 1, iw = ow + kw - 1;
            if (ih < 0 || ih >= h || iw < 0 || iw >= w) continue;
            float* p = dx + ((static_cast<int64_t>(b) * h + ih) * w + iw) * c;
            for (int k = 0; k < c; ++k) p[k] += r[k];
          }
      }
}

// 2x2/2 max-pool of y (n, h, w, c) into out (n, h/2, w/2, c), remembering the flat index of each
// window's first maximum (row-major order, as xflow's max_pool2d).
void pool2x2(const float* y, int n, int h, int w, int c, float* out, int* arg) {
  int oh_n = h / 2, ow_n = w / 2;
  for (int b = 0; b < n; ++b)
    for (int oh = 0; oh < oh_n; ++oh)
      for (int ow = 0; ow < ow_n; ++ow) {
        int64_t o = ((static_cast<int64_t>(b) * oh_n + oh) * ow_n + ow) * c;
        int64_t i00 = ((static_cast<int64_t>(b) * h + 2 * oh) * w + 2 * ow) * c;
        int64_t idx[4] = {i00, i00 + c, i00 + static_cast<int64_t>(w) * c, i00 + static_cast<int64_t>(w) * c + c};
        for (int k = 0; k < c; ++k) {
          int64_t best = idx[0] + k;
          for (int j = 1; j < 4; ++j)
            if (y[idx[j] + k] > y[best]) best = idx[j] + k;
          out[o + k] = y[best];
          arg[o + k] = static_cast<int>(best);
        }
      }
}

// One Adam update (TensorFlow 1): m, v slots, lr_t from the 1-based step t.
void adam(std::vector<float>& var, const float* g, std::vector<float>& m, std::vector<float>& v, float lr_t) {
  for (size_t i = 0; i < var.size(); ++i) {
    m[i] = m[i] * kBeta1 + g[i] * (1.0f - kBeta1);
    v[i] = v[i] * kBeta2 + g[i] * g[i] * (1.0f - kBeta2);
    var[i] -= lr_t * m[i] / (std::sqrt(v[i]) + kEps);
  }
}

void column_sums(const float* a, int rows, int cols, float* out) {
  std::fill(out, out + cols, 0.0f);
  for (int r = 0; r < rows; ++r)
    for (int j = 0; j < cols; ++j) out[j] += a[static_cast<int64_t>(r) * cols + j];
}

// The hand-written step, with every buffer allocated once.
struct HandCnn {
  CnnParams p;
  CnnParams m, v;  // Adam's slots, zeros
  int t = 0;
  std::vector<float> cols1, y1, p1, cols2, y2, p2, logits, dlogits, dp2, dy2, dcols2, dp1, dy1;
  std::vector<float> dk1, db1, dk2, db2, dw3, db3;
  std::vector<int> arg1, arg2;

  HandCnn()
      : p(w6_params()),
        cols1(kN * 64 * 9), y1(kN * 64 * kC1), p1(kN * 16 * kC1), cols2(kN * 16 * 9 * kC1), y2(kN * 16 * kC2),
        p2(kN * kFlat), logits(kN * kClasses), dlogits(kN * kClasses), dp2(kN * kFlat), dy2(kN * 16 * kC2),
        dcols2(kN * 16 * 9 * kC1), dp1(kN * 16 * kC1), dy1(kN * 64 * kC1), dk1(9 * kC1), db1(kC1), dk2(9 * kC1 * kC2),
        db2(kC2), dw3(kFlat * kClasses), db3(kClasses), arg1(kN * 16 * kC1), arg2(kN * kFlat) {
    for (CnnParams* s : {&m, &v}) {
      s->k1.assign(p.k1.size(), 0.0f);
      s->b1.assign(p.b1.size(), 0.0f);
      s->k2.assign(p.k2.size(), 0.0f);
      s->b2.assign(p.b2.size(), 0.0f);
      s->w3.assign(p.w3.size(), 0.0f);
      s->b3.assign(p.b3.size(), 0.0f);
    }
  }

  static void bias_relu(std::vector<float>& y, const std::vector<float>& b) {
    size_t c = b.size();
    for (size_t i = 0; i < y.size(); i += c)
      for (size_t j = 0; j < c; ++j) y[i + j] = std::max(y[i + j] + b[j], 0.0f);
  }

  // dy = scatter of dp at the pooled indices, times relu'(y) (y > 0). Windows do not overlap.
  static void pool_relu_backward(const std::vector<float>& dp, const std::vector<int>& arg, const std::vector<float>& y,
                                 std::vector<float>& dy) {
    std::fill(dy.begin(), dy.end(), 0.0f);
    for (size_t i = 0; i < dp.size(); ++i)
      if (y[arg[i]] > 0) dy[arg[i]] = dp[i];
  }

  float step(const float* x, const int* labels) {
    const int R1 = kN * 64, R2 = kN * 16;  // output positions of conv1, conv2 over the batch
    // forward
    im2col3x3(x, kN, 8, 8, 1, cols1.data());
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, R1, kC1, 9, 1.0f, cols1.data(), 9, p.k1.data(), kC1, 0.0f,
                y1.data(), kC1);
    bias_relu(y1, p.b1);
    pool2x2(y1.data(), kN, 8, 8, kC1, p1.data(), arg1.data());
    im2col3x3(p1.data(), kN, 4, 4, kC1, cols2.data());
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, R2, kC2, 9 * kC1, 1.0f, cols2.data(), 9 * kC1, p.k2.data(),
                kC2, 0.0f, y2.data(), kC2);
    bias_relu(y2, p.b2);
    pool2x2(y2.data(), kN, 4, 4, kC2, p2.data(), arg2.data());
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, kN, kClasses, kFlat, 1.0f, p2.data(), kFlat, p.w3.data(),
                kClasses, 0.0f, logits.data(), kClasses);
    // softmax cross-entropy (mean) and its gradient
    float loss = 0;
    for (int i = 0; i < kN; ++i) {
      float* l = logits.data() + i * kClasses;
      float mx = -INFINITY;
      for (int j = 0; j < kClasses; ++j) {
        l[j] += p.b3[j];
        mx = std::max(mx, l[j]);
      }
      float s = 0;
      for (int j = 0; j < kClasses; ++j) s += std::exp(l[j] - mx);
      float lse = mx + std::log(s);
      loss += lse - l[labels[i]];
      for (int j = 0; j < kClasses; ++j)
        dlogits[i * kClasses + j] = (std::exp(l[j] - lse) - (j == labels[i] ? 1.0f : 0.0f)) / kN;
    }
    // backward
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, kFlat, kClasses, kN, 1.0f, p2.data(), kFlat, dlogits.data(),
                kClasses, 0.0f, dw3.data(), kClasses);
    column_sums(dlogits.data(), kN, kClasses, db3.data());
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, kN, kFlat, kClasses, 1.0f, dlogits.data(), kClasses,
                p.w3.data(), kClasses, 0.0f, dp2.data(), kFlat);
    pool_relu_backward(dp2, arg2, y2, dy2);
    column_sums(dy2.data(), R2, kC2, db2.data());
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, 9 * kC1, kC2, R2, 1.0f, cols2.data(), 9 * kC1, dy2.data(), kC2,
                0.0f, dk2.data(), kC2);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, R2, 9 * kC1, kC2, 1.0f, dy2.data(), kC2, p.k2.data(), kC2,
                0.0f, dcols2.data(), 9 * kC1);
    col2im3x3(dcols2.data(), kN, 4, 4, kC1, dp1.data());
    pool_relu_backward(dp1, arg1, y1, dy1);
    column_sums(dy1.data(), R1, kC1, db1.data());
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, 9, kC1, R1, 1.0f, cols1.data(), 9, dy1.data(), kC1, 0.0f,
                dk1.data(), kC1);
    // Adam
    ++t;
    float b1t = std::pow(kBeta1, static_cast<float>(t)), b2t = std::pow(kBeta2, static_cast<float>(t));
    float lr_t = kLr * std::sqrt(1.0f - b2t) / (1.0f - b1t);
    adam(p.k1, dk1.data(), m.k1, v.k1, lr_t);
    adam(p.b1, db1.data(), m.b1, v.b1, lr_t);
    adam(p.k2, dk2.data(), m.k2, v.k2, lr_t);
    adam(p.b2, db2.data(), m.b2, v.b2, lr_t);
    adam(p.w3, dw3.data(), m.w3, v.w3, lr_t);
    adam(p.b3, db3.data(), m.b3, v.b3, lr_t);
    return loss / kN;
  }
};

std::vector<xf::Variable> make_vars(const CnnParams& init) {
  return {xf::Variable(xf::Tensor::from_vector(init.k1, {3, 3, 1, kC1})),
          xf::Variable(xf::Tensor::from_vector(init.b1, {kC1})),
          xf::Variable(xf::Tensor::from_vector(init.k2, {3, 3, kC1, kC2})),
          xf::Variable(xf::Tensor::from_vector(init.b2, {kC2})),
          xf::Variable(xf::Tensor::from_vector(init.w3, {kFlat, kClasses})),
          xf::Variable(xf::Tensor::from_vector(init.b3, {kClasses}))};
}

// The step as samples/digits writes it: conv + bias + relu, pool, twice; dense; mean sparse
// softmax cross-entropy; Adam's minimize.
struct XfCnn {
  std::vector<xf::Variable> vars;
  xf::Adam opt{kLr, kBeta1, kBeta2, kEps};
  explicit XfCnn(const CnnParams& init) : vars(make_vars(init)) {}
  std::vector<xf::Tensor> operator()(const std::vector<xf::Tensor>& in) {
    auto loss_fn = [&](const std::vector<xf::Tensor>& p) {
      xf::Tensor y = xf::relu(xf::conv2d(in[0], p[0], {1, 1}, xf::Padding::same) + p[1]);
      y = xf::max_pool2d(y, {2, 2}, {2, 2}, xf::Padding::valid);
      y = xf::relu(xf::conv2d(y, p[2], {1, 1}, xf::Padding::same) + p[3]);
      y = xf::max_pool2d(y, {2, 2}, {2, 2}, xf::Padding::valid);
      xf::Tensor logits = xf::matmul(xf::reshape(y, {-1, kFlat}), p[4]) + p[5];
      return xf::mean(xf::nn::sparse_softmax_cross_entropy_with_logits(in[1], logits));
    };
    return {opt.minimize(loss_fn, vars)};
  }
};

}  // namespace

void bench_w6(const Options& o) {
  const std::string eager = "W6/eager", replay = "W6/replay", hand = "W6/hand";
  if (!wanted(o, {eager, replay, hand})) return;
  xf::set_num_threads(1);
  std::vector<float> px(kN * kH * kH);
  for (size_t i = 0; i < px.size(); ++i) px[i] = w6_pixel(static_cast<int64_t>(i));
  std::vector<int> labels_v(kN);
  for (int i = 0; i < kN; ++i) labels_v[i] = (i * 7) % kClasses;
  xf::Tensor x = xf::Tensor::from_vector(px, {kN, kH, kH, 1});
  xf::Tensor labels = xf::Tensor::from_vector(labels_v, {kN});
  CnnParams init = w6_params();
  XfCnn eager_model(init), traced_model(init);
  auto traced = xf::trace([&traced_model](const std::vector<xf::Tensor>& in) { return traced_model(in); });
  HandCnn hc;
  // Same trajectory: eager and replay bitwise (losses and weights), hand close. Adam divides by
  // sqrt(v), which magnifies rounding differences of small gradients, so later steps get a
  // looser tolerance than the first (same weights, only summation order differs).
  check_steps({"W6", 3, 1e-5f, 1e-3f, 9, true}, [&] {
    return StepLosses{eager_model({x, labels})[0], traced({x, labels})[0], hc.step(px.data(), labels_v.data())};
  });
  for (size_t i = 0; i < eager_model.vars.size(); ++i)
    if (!xf::bitwise_equal(eager_model.vars[i].value(), traced_model.vars[i].value())) {
      std::printf("  CHECK FAILED W6: replayed weights %zu differ from eager's\n", i);
      g_failed = true;
    }
  auto run_eager = [&] {
    xf::Tensor l = eager_model({x, labels})[0];
    escape(&l);
  };
  auto run_replay = [&] {
    xf::Tensor l = traced({x, labels})[0];
    escape(&l);
  };
  auto run_hand = [&] {
    float l = hc.step(px.data(), labels_v.data());
    escape(&l);
  };
  auto t = measure({run_eager, run_replay, run_hand}, o.quick ? 3 : 15, 0.03);
  add_entry({hand, t[2], fmt("%.1f us/step", t[2] * 1e6), std::nullopt, 0, std::nullopt});
  add_entry({eager, t[0], fmt("%.1f us/step", t[0] * 1e6), hand, t[2], std::nullopt});
  add_entry({replay, t[1], fmt("%.1f us/step", t[1] * 1e6), hand, t[2], std::nullopt});
  peak_entry(eager, run_eager);
  Entry pe;
  pe.name = replay + "/peak_bytes";
  pe.bytes = traced.plan_for({x, labels})->peak_bytes();
  add_entry(pe);
}

}  // namespace xfbench
